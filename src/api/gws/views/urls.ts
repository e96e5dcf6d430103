/** GWS resource URIs and paths, absolute to the server's base URL as GWS returns them. */
export interface Urls {
  readonly base: string;
}

export const callPath = (id: string) => `/calls/${id}`;
export const callUri = (u: Urls, id: string) => `${u.base}/api/v2/me/calls/${id}`;
export const devicePath = (id: string) => `/devices/${id}`;
export const deviceUri = (u: Urls, id: string) => `${u.base}/api/v2/devices/${id}`;
export const userPath = (id: string) => `/users/${id}`;
export const userUri = (u: Urls, id: string) => `${u.base}/api/v2/users/${id}`;
