// The Conclave console: preact + hooks + htm (one ESM file served by Conclave), no build step.
// It signs in (a session cookie, since EventSource sends no headers), loads the picture from
// GET /conclave/v1/console/state, then applies the `changed` records of /conclave/v1/events.
// Every action is a request to the same API anyone else uses; the server decides.
import { html, render, useEffect, useReducer, useState } from '/console/vendor/preact-htm.js';

const API = '/conclave/v1';
let csrfToken = '';

/** A request to this server; resolves {ok, status, body}. Refusals carry a GWS-style statusMessage. */
const request = async (method, url, body, form) => {
  const headers = { accept: 'application/json' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  let payload;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { ok: response.ok, status: response.status, body: parsed };
};
const why = (reply) => (reply.body && (reply.body.statusMessage || reply.body.message)) || `HTTP ${reply.status}`;

// ---- the picture, and how a record changes it ----
const EMPTY = { loaded: false, calls: {}, chats: {}, agents: {}, flags: {}, audit: [], auditKeys: {}, versions: {} };
const auditKey = (e) => `${Date.parse(e.time)}:${e.flagId}:${e.step}:${e.outcome}:${e.interaction ?? ''}`;

/** Applies one record; a record older than what is shown (by version) is dropped. */
const applyRecord = (s, r) => {
  if (r.kind === 'audit') {
    if (s.auditKeys[r.id]) return s;
    return { ...s, audit: [...s.audit, r.value].slice(-200), auditKeys: { ...s.auditKeys, [r.id]: true } };
  }
  if (r.kind === 'flag') return { ...s, flags: { ...s.flags, [r.id]: r.value } };
  const table = { call: 'calls', chat: 'chats', agent: 'agents' }[r.kind];
  if (!table) return s;
  const key = `${r.kind}:${r.id}`;
  if (s.versions[key] !== undefined && s.versions[key] > r.version) return s;
  const entities = { ...s[table] };
  if (r.value === null) delete entities[r.id];
  else entities[r.id] = r.value;
  return { ...s, [table]: entities, versions: { ...s.versions, [key]: r.version } };
};

const fromState = (body) => {
  let s = { ...EMPTY, loaded: true };
  for (const c of body.calls) s = applyRecord(s, { kind: 'call', id: c.callId, version: c.version, value: c });
  for (const c of body.chats) s = applyRecord(s, { kind: 'chat', id: c.chatId, version: c.version, value: c });
  for (const a of body.agents) s = applyRecord(s, { kind: 'agent', id: a.userId, version: a.version, value: a });
  for (const f of body.flags) s = applyRecord(s, { kind: 'flag', id: f.flagId, value: f });
  for (const e of body.audit) s = applyRecord(s, { kind: 'audit', id: auditKey(e), value: e });
  return s;
};

const reducer = (s, action) => {
  switch (action.type) {
    case 'loaded': {
      // Records that came while the picture loaded are applied on top (older ones drop out).
      let next = fromState(action.body);
      for (const r of action.pending) next = applyRecord(next, r);
      return next;
    }
    case 'records':
      return action.records.reduce(applyRecord, s);
    case 'reset':
      return EMPTY;
    default:
      return s;
  }
};

/** Subscribes to the stream; on every (re)open, reloads the picture so nothing missed is lost. */
const useLive = (signedIn, onSignedOut) => {
  const [state, dispatch] = useReducer(reducer, EMPTY);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!signedIn) {
      dispatch({ type: 'reset' });
      return undefined;
    }
    let pending = null;
    let closed = false;
    const source = new EventSource(`${API}/events`);
    const load = async () => {
      pending = [];
      const reply = await request('GET', `${API}/console/state`);
      if (closed) return;
      if (!reply.ok) {
        if (reply.status === 401 || reply.status === 403) onSignedOut(why(reply));
        return;
      }
      const records = pending;
      pending = null;
      dispatch({ type: 'loaded', body: reply.body, pending: records });
    };
    source.addEventListener('open', () => {
      setConnected(true);
      void load();
    });
    source.addEventListener('changed', (event) => {
      const records = JSON.parse(event.data);
      if (pending) pending.push(...records);
      else dispatch({ type: 'records', records });
    });
    source.addEventListener('error', () => {
      setConnected(false);
      // A closed stream (the session ended, a refusal) does not come back by itself.
      if (source.readyState === EventSource.CLOSED && !closed)
        void request('GET', `${API}/console/session`).then((r) => (r.ok && r.body.user ? undefined : onSignedOut('your session has ended: sign in again')));
    });
    return () => {
      closed = true;
      source.close();
    };
  }, [signedIn]);
  return { state, connected };
};

// ---- small parts ----
const STATE_WORDS = { Established: 'Connected', Ringing: 'Ringing', Dialing: 'Dialing', Held: 'On hold', Released: 'Left' };
const isLive = (p) => (p.state === 'Established' || p.state === 'Held') && !p.monitoring;
const isPresent = (p) => p.state !== 'Released';

const Message = ({ message }) =>
  message && message.error
    ? html`<p role="alert">${message.text}</p>`
    : html`<p role="status" aria-live="polite">${message ? message.text : ''}</p>`;

const useAction = () => {
  const [message, setMessage] = useState(null);
  const run = async (what, perform) => {
    setMessage(null);
    const reply = await perform();
    setMessage(reply.ok ? { text: `${what}: done` } : { error: true, text: `${what} was refused: ${why(reply)}` });
    return reply;
  };
  return [message, run];
};

// ---- sign in ----
const SignIn = ({ onSignedIn, notice }) => {
  const [error, setError] = useState(notice || '');
  const submit = async (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setError('');
    const reply = await request('POST', `${API}/console/session`, { userName: data.get('userName'), password: data.get('password') });
    if (reply.ok) onSignedIn(reply.body);
    else setError(`Sign-in refused: ${why(reply)}`);
  };
  return html`<main class="signin">
    <section aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in to the Conclave console</h2>
      <form onSubmit=${submit}>
        <label>User name <input name="userName" autocomplete="username" required /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        <button type="submit">Sign in</button>
      </form>
      ${error ? html`<p role="alert">${error}</p>` : null}
      <p class="note">For administrators and supervisors (ROLE_ADMIN, ROLE_SUPERVISOR).</p>
    </section>
  </main>`;
};

// ---- calls ----
const Party = ({ call, party, canAct, act, hangupNumber }) => {
  const live = isLive(party);
  const conference = call.parties.filter(isLive).length >= 3;
  const removable = canAct && live && conference && party.number !== call.ownerDn;
  const label = `Party ${party.number}${party.name ? ` (${party.name})` : ''}`;
  return html`<li aria-label=${label} class=${`s-${party.state}${isPresent(party) ? '' : ' gone'}`}>
    <span class="number">${party.number}</span>
    ${party.name ? html`<span>${party.name}</span>` : null}
    <span class=${`state s-${party.state}`}>${STATE_WORDS[party.state] || party.state}</span>
    <span class="tags">
      ${party.number === call.ownerDn ? html`<span class="tag owner">owner</span>` : null}
      ${party.external ? html`<span class="tag external">external</span>` : html`<span class="tag">${party.monitoring ? 'supervisor' : 'agent'}</span>`}
      ${party.monitors ? html`<span class="tag monitor">monitors ${party.monitors.targetDn} (${party.monitors.mode})</span>` : null}
    </span>
    ${canAct && (removable || party.number === hangupNumber)
      ? html`<span class="actions">
          ${removable ? html`<button class="small danger" onClick=${() => act(`Remove ${party.number}`, () => request('POST', `${API}/console/calls/${encodeURIComponent(call.callId)}/remove`, { participant: party.number }))}>Remove</button>` : null}
          ${party.number === hangupNumber ? html`<button class="small" onClick=${() => act(`Hang up ${party.number}`, () => request('POST', `${API}/sim/calls/${encodeURIComponent(call.callId)}`, { action: 'hangup' }))}>Hang up</button>` : null}
        </span>`
      : null}
  </li>`;
};

const Calls = ({ calls, canAct }) => {
  const [message, act] = useAction();
  const list = Object.values(calls).sort((a, b) => a.callId.localeCompare(b.callId));
  return html`<section aria-labelledby="calls-title">
    <h2 id="calls-title">Calls (${list.length})</h2>
    <${Message} message=${message} />
    ${list.length === 0 ? html`<p class="empty">No live calls.</p>` : null}
    ${list.map((call) => {
      // The simulation API hangs up the call's first present external party: that party's button.
      const hangup = call.parties.find((p) => p.external && isPresent(p));
      const data = Object.entries(call.userData || {});
      return html`<article class="call" key=${call.callId} aria-label=${`Call ${call.callId}`}>
        <h3>
          ${call.callType} call <span class="meta">${call.callId} · from ${call.ani ?? '?'} to ${call.dnis ?? '?'} · owner ${call.ownerDn ?? 'none'}
          ${data.length ? ` · ${data.map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}</span>
        </h3>
        <ul class="parties" aria-label=${`Parties of call ${call.callId}`}>
          ${call.parties.map((p) => html`<${Party} key=${p.number} call=${call} party=${p} canAct=${canAct} act=${act} hangupNumber=${hangup && hangup.number} />`)}
        </ul>
      </article>`;
    })}
  </section>`;
};

// ---- chats, agents, compliance ----
const Chats = ({ chats }) => {
  const list = Object.values(chats);
  return html`<section aria-labelledby="chats-title">
    <h2 id="chats-title">Chats (${list.length})</h2>
    ${list.length === 0 ? html`<p class="empty">No live chats.</p>` : null}
    ${list.map(
      (chat) => html`<article class="call" key=${chat.chatId} aria-label=${`Chat ${chat.chatId}`}>
        <h3>${chat.serviceName} <span class="meta">${chat.chatId}</span></h3>
        <ul class="parties">
          <li aria-label=${`Customer ${chat.customer.nickname}`} class=${chat.customer.connected ? 's-Chatting' : 's-LeftChat gone'}>
            <span class="number">${chat.customer.nickname}</span>
            <span class=${`state ${chat.customer.connected ? 's-Chatting' : 's-LeftChat'}`}>${chat.customer.connected ? 'Connected' : 'Left'}</span>
            <span class="tags"><span class="tag external">customer</span></span>
          </li>
          ${chat.agents.map(
            (a) => html`<li key=${a.userId + a.state} aria-label=${`Agent ${a.nickname}`} class=${`s-${a.state}${a.state === 'Chatting' || a.state === 'Invited' ? '' : ' gone'}`}>
              <span class="number">${a.nickname}</span>
              <span class=${`state s-${a.state}`}>${a.state}</span>
              <span class="tags"><span class="tag">sees: ${a.visibility}</span></span>
            </li>`,
          )}
        </ul>
      </article>`,
    )}
  </section>`;
};

const ChannelState = ({ state }) => html`<span class=${`state s-${state || 'none'}`}>${state === 'NotReady' ? 'Not ready' : state || 'Logged out'}</span>`;

const Agents = ({ agents }) => {
  const list = Object.values(agents).sort((a, b) => a.userName.localeCompare(b.userName));
  return html`<section aria-labelledby="agents-title">
    <h2 id="agents-title">Agents</h2>
    <table aria-labelledby="agents-title">
      <thead><tr><th scope="col">Agent</th><th scope="col">Number</th><th scope="col">Voice</th><th scope="col">Chat</th><th scope="col">Monitoring</th></tr></thead>
      <tbody>
        ${list.map(
          (a) => html`<tr key=${a.userId} aria-label=${`Agent ${a.userName}`}>
            <th scope="row">${a.name || a.userName} <span class="note">${a.userName}</span></th>
            <td>${a.phoneNumber || '—'}</td>
            <td><${ChannelState} state=${a.channels && a.channels.voice} /></td>
            <td><${ChannelState} state=${a.channels && a.channels.chat} /></td>
            <td>${a.monitoring ? `${a.monitoring.targetDn} (${a.monitoring.mode})` : '—'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
};

const Compliance = ({ flags, audit }) => {
  const list = Object.values(flags).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return html`<section aria-labelledby="flags-title">
    <h2 id="flags-title">Compliance flags (${list.length})</h2>
    ${list.length === 0 ? html`<p class="empty">No flags raised.</p>` : null}
    ${list.length
      ? html`<table aria-labelledby="flags-title">
          <thead><tr><th scope="col">User</th><th scope="col">Reason</th><th scope="col">Status</th><th scope="col">Raised by</th></tr></thead>
          <tbody>
            ${list.map(
              (f) => html`<tr key=${f.flagId} aria-label=${`Flag on ${f.userName}`}>
                <td>${f.userName}${f.phoneNumber ? ` (${f.phoneNumber})` : ''}</td>
                <td>${f.reason} <span class="note">${f.source}</span></td>
                <td><span class=${`state s-${f.status}`} title=${f.detail ?? ''}>${f.status === 'done' ? 'Done' : f.status === 'failed' ? 'Failed' : 'Pending'}</span></td>
                <td>${f.raisedBy}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    <h2 id="audit-title">Audit trail</h2>
    <ol class="audit" aria-labelledby="audit-title" reversed>
      ${audit
        .slice(-50)
        .reverse()
        .map(
          (e) => html`<li key=${auditKey(e)}>
            ${e.time.slice(11, 19)} · ${e.participant} · ${e.step} (${e.outcome})${e.interaction ? ` · ${e.interactionType} ${e.interaction}` : ''}${e.detail ? ` · ${e.detail}` : ''}
          </li>`,
        )}
    </ol>
  </section>`;
};

// ---- actions ----
/** "key=value" lines (or a JSON object) as attached data; numbers stay numbers. */
const parseUserData = (text) => {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const data = {};
  for (const line of trimmed.split(/\n|;/)) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`'${line.trim()}' is not key=value`);
    const value = line.slice(at + 1).trim();
    data[line.slice(0, at).trim()] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return data;
};

const StartCall = () => {
  const [message, act] = useAction();
  const submit = (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let userData;
    try {
      userData = parseUserData(String(data.get('userData') || ''));
    } catch (error) {
      return act('Start call', async () => ({ ok: false, status: 400, body: { statusMessage: `attached data: ${error.message}` } }));
    }
    return act('Start call', () =>
      request('POST', `${API}/sim/calls`, { from: data.get('from'), to: data.get('to'), ...(userData ? { userData } : {}) }),
    );
  };
  return html`<section aria-labelledby="start-call-title">
    <h2 id="start-call-title">A customer calls</h2>
    <form onSubmit=${submit} aria-labelledby="start-call-title">
      <label>From <input name="from" value="+14155550100" required /></label>
      <label>To <input name="to" value="15000" required /></label>
      <label>Attached data <textarea name="userData" rows="2" placeholder="account=A-42"></textarea></label>
      <button type="submit">Start call</button>
    </form>
    <${Message} message=${message} />
  </section>`;
};

const StartChat = () => {
  const [message, act] = useAction();
  const submit = (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const service = String(data.get('service') || '');
    const text = String(data.get('text') || '');
    return act('Start chat', () =>
      request('POST', `/genesys/2/chat/${encodeURIComponent(service)}`, undefined, { nickname: String(data.get('nickname')), ...(text ? { text } : {}) }),
    );
  };
  return html`<section aria-labelledby="start-chat-title">
    <h2 id="start-chat-title">A customer chats</h2>
    <form onSubmit=${submit} aria-labelledby="start-chat-title">
      <label>Nickname <input name="nickname" value="Casey" required /></label>
      <label>Service <input name="service" value="customer-support" required /></label>
      <label>First message <input name="text" /></label>
      <button type="submit">Start chat</button>
    </form>
    <${Message} message=${message} />
  </section>`;
};

const RaiseFlag = () => {
  const [message, act] = useAction();
  const submit = (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    return act('Raise flag', () =>
      request('POST', `${API}/compliance/flags`, { user: data.get('user'), reason: data.get('reason'), source: data.get('source') }),
    );
  };
  return html`<section aria-labelledby="flag-title">
    <h2 id="flag-title">Raise a compliance flag</h2>
    <form onSubmit=${submit} aria-labelledby="flag-title">
      <label>User <input name="user" placeholder="agent15001, 15001 or +14155550100" required /></label>
      <label>Reason <input name="reason" required /></label>
      <label>Source <input name="source" value="console" required /></label>
      <button type="submit">Raise flag</button>
    </form>
    <${Message} message=${message} />
  </section>`;
};

// ---- the page ----
const App = () => {
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState('');
  const signIn = (body) => {
    csrfToken = body.csrfToken || '';
    setNotice('');
    setSession(body.user);
  };
  const signOut = (why) => {
    csrfToken = '';
    setNotice(why || '');
    setSession(null);
  };
  useEffect(() => {
    // A session cookie from an earlier sign-in may still be good.
    void request('GET', `${API}/console/session`).then((r) => (r.ok && r.body.user ? signIn(r.body) : setSession(null)));
  }, []);
  const { state, connected } = useLive(Boolean(session), signOut);
  if (session === undefined) return html`<header><h1>Conclave console</h1></header>`;
  if (session === null) return html`<header><h1>Conclave console</h1></header><${SignIn} onSignedIn=${signIn} notice=${notice} />`;
  const canAct = session.roles.includes('ROLE_ADMIN');
  return html`<header>
      <h1>Conclave console</h1>
      <span class=${`live${connected ? ' on' : ''}`} role="status" aria-label="Live updates">${connected ? 'live' : 'reconnecting…'}</span>
      <span class="who">${session.userName} (${session.roles.join(', ')})</span>
      <button onClick=${() => request('DELETE', `${API}/console/session`).then(() => signOut(''))}>Sign out</button>
    </header>
    <main>
      <div>
        ${state.loaded ? html`<${Calls} calls=${state.calls} canAct=${canAct} /><${Chats} chats=${state.chats} /><${Agents} agents=${state.agents} />` : html`<p>Loading…</p>`}
      </div>
      <div>
        ${canAct ? html`<${StartCall} /><${StartChat} /><${RaiseFlag} />` : html`<section><p class="note">Signed in as a supervisor: the console is read-only; its actions need ROLE_ADMIN.</p></section>`}
        ${state.loaded ? html`<${Compliance} flags=${state.flags} audit=${state.audit} />` : null}
      </div>
    </main>`;
};

render(html`<${App} />`, document.getElementById('app'));
