/** The customer's side of a chat over real HTTP, form-encoded as GMS clients send it. */
export interface CustomerChat {
  readonly chatId: string;
  readonly userId: string;
  readonly secureKey: string;
  readonly alias: string;
  send(message: string): Promise<any>;
  refresh(fromPosition?: number): Promise<any>;
  disconnect(): Promise<any>;
}

export const postForm = async (url: string, fields: Record<string, string>) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: (await response.json()) as any };
};

export const startCustomerChat = async (baseUrl: string, fields: Record<string, string>, service = 'customer-support'): Promise<CustomerChat> => {
  const started = await postForm(`${baseUrl}/genesys/2/chat/${service}`, fields);
  if (started.status !== 200) throw new Error(`chat request failed: ${started.status} ${JSON.stringify(started.body)}`);
  const { chatId, userId, secureKey, alias } = started.body;
  const creds = { userId, secureKey, alias };
  const at = (verb: string, extra: Record<string, string> = {}) =>
    postForm(`${baseUrl}/genesys/2/chat/${service}/${chatId}/${verb}`, { ...creds, ...extra }).then((r) => r.body);
  return {
    chatId,
    userId,
    secureKey,
    alias,
    send: (message) => at('send', { message }),
    refresh: (fromPosition = 1) => at('refresh', { fromPosition: String(fromPosition) }),
    disconnect: () => at('disconnect'),
  };
};
