/**
 * The directory: the built-in demo, stable ids, defaults, the file loaders (JSON and YAML) and
 * the refusals of a malformed file, each naming the path, the entry and the field.
 */
import { secretCheck } from '../../src/directory/secrets.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { buildDirectory, demoDirectory, DirectoryError, loadDirectoryFile, type Directory } from '../../src/directory/directory.js';

const ALL_FEATURES = ['api-voice', 'api-multimedia', 'api-supervisor-monitoring', 'api-voice-recording'];
const HEX32 = /^[0-9a-f]{32}$/;

const sorted = (xs: readonly string[]) => [...xs].sort();

/** A minimal valid entry, with overrides. */
const entry = (over: Record<string, unknown> = {}) => ({ userName: 'alice', password: 'pw', roles: ['ROLE_AGENT'], phoneNumber: '2000', ...over });

/** Asserts that fn throws a DirectoryError whose message contains every fragment. */
const refuses = (fn: () => unknown, fragments: readonly string[]) => {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected a DirectoryError mentioning ${JSON.stringify(fragments)}, but nothing was thrown`);
  assert.ok(caught instanceof DirectoryError, `expected a DirectoryError, got ${String(caught)}`);
  const message = (caught as Error).message;
  for (const fragment of fragments) assert.ok(message.includes(fragment), `message ${JSON.stringify(message)} does not mention ${JSON.stringify(fragment)}`);
  return message;
};

describe('directory: built-in demo', () => {
  const demo = demoDirectory();

  it('has agent15000..agent15003 on DNs 15000-15003 with ROLE_AGENT', () => {
    for (const n of [15000, 15001, 15002, 15003]) {
      const user = demo.byUserName(`agent${n}`);
      assert.ok(user, `agent${n} missing`);
      assert.equal(user.phoneNumber, String(n));
      assert.ok(user.roles.includes('ROLE_AGENT'));
      assert.equal(demo.byDn(String(n))?.userName, `agent${n}`);
      assert.ok(demo.isKnownDn(String(n)));
    }
  });

  it('has super15010 on DN 15010 with ROLE_SUPERVISOR and ROLE_AGENT', () => {
    const user = demo.byUserName('super15010');
    assert.ok(user);
    assert.equal(user.phoneNumber, '15010');
    assert.deepEqual(sorted(user.roles), ['ROLE_AGENT', 'ROLE_SUPERVISOR']);
    assert.equal(demo.byDn('15010')?.userName, 'super15010');
  });

  it('has admin with ROLE_ADMIN', () => {
    const user = demo.byUserName('admin');
    assert.ok(user);
    assert.ok(user.roles.includes('ROLE_ADMIN'));
  });

  it('gives every demo user every feature and a 32-hex id', () => {
    for (const name of ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'admin']) {
      const user = demo.byUserName(name);
      assert.ok(user, name);
      assert.deepEqual(sorted(user.features), sorted(ALL_FEATURES), name);
      assert.match(user.id, HEX32, name);
      assert.equal(demo.byId(user.id)?.userName, name);
    }
  });

  it('accepts password = user name for every demo user', () => {
    for (const name of ['agent15000', 'agent15001', 'agent15002', 'agent15003', 'super15010', 'admin'])
      assert.equal(demo.authenticate(name, name)?.userName, name, name);
  });

  it('has distinct ids, and the same ids and device ids in a second build', () => {
    const again = demoDirectory();
    const ids = demo.users.map((u) => u.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const user of demo.users) {
      const twin = again.byUserName(user.userName);
      assert.equal(twin?.id, user.id, user.userName);
      assert.equal(twin?.deviceId, user.deviceId, user.userName);
    }
  });
});

describe('directory: buildDirectory', () => {
  it('derives a 32 lowercase hex id from the user name, the same in two builds', () => {
    const one = buildDirectory({ users: [entry()] }, 'test');
    const two = buildDirectory({ users: [entry({ password: 'other', phoneNumber: '9999', firstName: 'X' })] }, 'test');
    const id = one.byUserName('alice')?.id;
    assert.ok(id);
    assert.match(id, HEX32);
    assert.equal(two.byUserName('alice')?.id, id);
  });

  it('gives different user names different ids', () => {
    const d = buildDirectory({ users: [entry(), entry({ userName: 'bob', phoneNumber: '2001' })] }, 'test');
    assert.notEqual(d.byUserName('alice')?.id, d.byUserName('bob')?.id);
  });

  it('keeps a given id', () => {
    const id = '0123456789abcdef0123456789abcdef';
    const d = buildDirectory({ users: [entry({ id })] }, 'test');
    assert.equal(d.byUserName('alice')?.id, id);
    assert.equal(d.byId(id)?.userName, 'alice');
  });

  it('gives every feature when features are omitted', () => {
    const d = buildDirectory({ users: [entry()] }, 'test');
    assert.deepEqual(sorted(d.byUserName('alice')?.features ?? []), sorted(ALL_FEATURES));
  });

  it('keeps given features', () => {
    const d = buildDirectory({ users: [entry({ features: ['api-voice'] })] }, 'test');
    assert.deepEqual(d.byUserName('alice')?.features, ['api-voice']);
  });

  it('defaults the nickname to the user name and keeps a given one', () => {
    const d = buildDirectory({ users: [entry(), entry({ userName: 'bob', phoneNumber: '2001', nickname: 'bobby' })] }, 'test');
    assert.equal(d.byUserName('alice')?.nickname, 'alice');
    assert.equal(d.byUserName('bob')?.nickname, 'bobby');
  });

  it('gives a user without phoneNumber no device', () => {
    const noPhone: Record<string, unknown> = entry({ userName: 'nophone' });
    delete noPhone['phoneNumber'];
    const d = buildDirectory({ users: [entry(), noPhone] }, 'test');
    const user = d.byUserName('nophone');
    assert.ok(user);
    assert.equal(user.phoneNumber, null);
    assert.equal(user.deviceId, null);
    assert.ok(d.byUserName('alice')?.deviceId, 'a user with a phone number has a device');
  });

  it('derives stable device ids from the DN', () => {
    const one = buildDirectory({ users: [entry()] }, 'test');
    const two = buildDirectory({ users: [entry({ userName: 'someone-else' })] }, 'test');
    const other = buildDirectory({ users: [entry({ phoneNumber: '2001' })] }, 'test');
    const deviceId = one.byUserName('alice')?.deviceId;
    assert.ok(deviceId);
    assert.equal(buildDirectory({ users: [entry()] }, 'test').byUserName('alice')?.deviceId, deviceId);
    assert.equal(two.byDn('2000')?.deviceId, deviceId);
    assert.notEqual(other.byUserName('alice')?.deviceId, deviceId);
  });

  it('authenticate: right password accepted, wrong password and unknown user refused', () => {
    const d = buildDirectory({ users: [entry({ password: 's3cret' })] }, 'test');
    assert.equal(d.authenticate('alice', 's3cret')?.userName, 'alice');
    assert.equal(d.authenticate('alice', 'wrong'), undefined);
    assert.equal(d.authenticate('alice', ''), undefined);
    assert.equal(d.authenticate('alice', 's3cret-longer'), undefined);
    assert.equal(d.authenticate('nobody', 's3cret'), undefined);
  });
});

describe('directory: refusals name the source, the entry and the field', () => {
  const SRC = 'directory file /some/where/users.json';
  const users = (...list: unknown[]) => ({ users: list });

  it('missing password', () => {
    const bad: Record<string, unknown> = entry({ userName: 'bob', phoneNumber: '2001' });
    delete bad['password'];
    refuses(() => buildDirectory(users(entry(), bad), SRC), [SRC, 'users[1]', 'bob', 'password']);
  });

  it('bad role', () => {
    refuses(() => buildDirectory(users(entry({ roles: ['ROLE_BOSS'] })), SRC), [SRC, 'users[0]', 'alice', 'roles']);
  });

  it('unknown feature', () => {
    refuses(() => buildDirectory(users(entry({ features: ['api-voice', 'api-teleport'] })), SRC), [SRC, 'users[0]', 'alice', 'features']);
  });

  it('an id that is not 32 lowercase hex', () => {
    for (const id of ['0123456789ABCDEF0123456789ABCDEF', 'abc', '0123456789abcdef0123456789abcdeg'])
      refuses(() => buildDirectory(users(entry({ id })), SRC), [SRC, 'users[0]', 'alice', 'id']);
  });

  it('an unknown field', () => {
    const message = refuses(() => buildDirectory(users(entry({ favouriteColour: 'blue' })), SRC), [SRC, 'users[0]', 'alice', 'favouriteColour']);
    // The reason says what is wrong with it, in words a user reads (not a schema engine's).
    assert.match(message, /not a known field|unknown field|not allowed/i);
  });

  it('a duplicate userName', () => {
    refuses(() => buildDirectory(users(entry(), entry({ phoneNumber: '2001' })), SRC), [SRC, 'users[1]', 'alice', 'userName']);
  });

  it('a duplicate phoneNumber', () => {
    refuses(() => buildDirectory(users(entry(), entry({ userName: 'bob' })), SRC), [SRC, 'users[1]', 'bob', 'phoneNumber']);
  });

  it('an empty users array', () => {
    refuses(() => buildDirectory({ users: [] }, SRC), [SRC, 'users']);
  });

  it('no users at all', () => {
    refuses(() => buildDirectory({}, SRC), [SRC, 'users']);
    refuses(() => buildDirectory(null, SRC), [SRC]);
  });
});

describe('directory: loadDirectoryFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'conclave-directory-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  const check = (d: Directory) => {
    assert.equal(d.users.length, 2);
    const ann = d.byUserName('ann');
    assert.ok(ann);
    assert.equal(ann.phoneNumber, '3000');
    assert.equal(ann.nickname, 'annie');
    assert.deepEqual(ann.features, ['api-voice']);
    assert.match(ann.id, HEX32);
    assert.ok(ann.deviceId);
    assert.equal(d.authenticate('ann', 'pa55')?.userName, 'ann');
    const boss = d.byUserName('boss');
    assert.ok(boss);
    assert.deepEqual(sorted(boss.roles), ['ROLE_ADMIN', 'ROLE_SUPERVISOR']);
    assert.deepEqual(sorted(boss.features), sorted(ALL_FEATURES));
    assert.equal(boss.deviceId, null);
    assert.equal(d.authenticate('boss', 'b0ss')?.userName, 'boss');
  };

  it('loads a JSON file', () => {
    const path = write(
      'users.json',
      JSON.stringify({
        users: [
          { userName: 'ann', password: 'pa55', roles: ['ROLE_AGENT'], phoneNumber: '3000', nickname: 'annie', features: ['api-voice'] },
          { userName: 'boss', password: 'b0ss', roles: ['ROLE_SUPERVISOR', 'ROLE_ADMIN'] },
        ],
      }),
    );
    check(loadDirectoryFile(path));
  });

  it('loads a YAML file (.yaml and .yml)', () => {
    const yaml = [
      'users:',
      '  - userName: ann',
      '    password: pa55',
      '    roles: [ROLE_AGENT]',
      '    phoneNumber: "3000"',
      '    nickname: annie',
      '    features:',
      '      - api-voice',
      '  - userName: boss',
      '    password: b0ss',
      '    roles:',
      '      - ROLE_SUPERVISOR',
      '      - ROLE_ADMIN',
      '',
    ].join('\n');
    check(loadDirectoryFile(write('users.yaml', yaml)));
    check(loadDirectoryFile(write('users.yml', yaml)));
  });

  it('gives the same ids from a JSON and a YAML file', () => {
    const json = loadDirectoryFile(write('same.json', JSON.stringify({ users: [{ userName: 'ann', password: 'x', roles: ['ROLE_AGENT'], phoneNumber: '3000' }] })));
    const yaml = loadDirectoryFile(write('same.yaml', 'users:\n  - userName: ann\n    password: x\n    roles: [ROLE_AGENT]\n    phoneNumber: "3000"\n'));
    assert.equal(json.byUserName('ann')?.id, yaml.byUserName('ann')?.id);
    assert.equal(json.byUserName('ann')?.deviceId, yaml.byUserName('ann')?.deviceId);
  });

  it('refuses an invalid entry naming the path, the entry and the field', () => {
    const path = write('bad-role.json', JSON.stringify({ users: [{ userName: 'ann', password: 'x', roles: ['ROLE_KING'] }] }));
    refuses(() => loadDirectoryFile(path), [path, 'users[0]', 'ann', 'roles']);
  });

  it('refuses an invalid entry in a YAML file naming the path, the entry and the field', () => {
    const path = write('missing-password.yaml', 'users:\n  - userName: ann\n    roles: [ROLE_AGENT]\n');
    refuses(() => loadDirectoryFile(path), [path, 'users[0]', 'ann', 'password']);
  });

  it('refuses a file that is not valid JSON, naming the path', () => {
    const path = write('broken.json', '{ "users": [ { "userName": "ann", ');
    const message = refuses(() => loadDirectoryFile(path), [path, 'JSON']);
    assert.doesNotMatch(message, /\n/, 'one line');
  });

  it('refuses a file that is not valid YAML, naming the path', () => {
    const path = write('broken.yaml', 'users:\n  - userName: ann\n    roles: [ROLE_AGENT\n  password: : :\n\t- x\n');
    const message = refuses(() => loadDirectoryFile(path), [path, 'YAML']);
    assert.doesNotMatch(message, /\n/, 'one line');
  });

  it('refuses a file that does not exist, naming the path', () => {
    const path = join(dir, 'no-such-file.json');
    refuses(() => loadDirectoryFile(path), [path]);
  });

  it('refuses an empty users array in a file, naming the path', () => {
    const path = write('empty.json', '{"users": []}');
    refuses(() => loadDirectoryFile(path), [path, 'users']);
  });
});

describe('directory: queues', () => {
  const users = [entry({ userName: 'alice', phoneNumber: '2000' }), entry({ userName: 'bob', phoneNumber: '2001' }), entry({ userName: 'carol', phoneNumber: undefined })];
  const withQueues = (queues: unknown[]) => buildDirectory({ users, queues }, 'test');

  it('the demo directory has support (DN 7000) with agent15000-15003 as members, ringTimeoutS 15, wrapUpS 0', () => {
    const demo = demoDirectory();
    const support = demo.queueOf('support');
    assert.ok(support);
    assert.equal(demo.queueOf('7000'), support, 'by name or by DN');
    assert.equal(support.dn, '7000');
    assert.deepEqual(support.members, [15000, 15001, 15002, 15003].map((n) => demo.byUserName(`agent${n}`)?.id));
    assert.deepEqual([support.ringTimeoutS, support.wrapUpS], [15, 0]);
    assert.equal(demo.isKnownDn('7000'), false, 'a queue DN is not a device');
  });

  it('defaults ringTimeoutS to 15 and wrapUpS to 0', () => {
    const q = withQueues([{ name: 'q', dn: '7000', members: ['alice'] }]).queueOf('q');
    assert.deepEqual([q?.ringTimeoutS, q?.wrapUpS], [15, 0]);
  });

  it('refuses a bad queue entry, naming the entry and the field', () => {
    refuses(() => withQueues([{ name: 'q', dn: '2000', members: [] }]), ["queues[0] (q)", "field 'dn'", "'2000'", 'alice']);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: ['zoe'] }]), ["queues[0] (q)", "field 'members.0'", "'zoe'", 'not a user']);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: ['carol'] }]), ["field 'members.0'", 'no phoneNumber']);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: [] }, { name: 'r', dn: '7000', members: [] }]), ["queues[1] (r)", "field 'dn'", 'queues[0]']);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: [] }, { name: 'q', dn: '7001', members: [] }]), ["queues[1] (q)", "field 'name'"]);
    refuses(() => withQueues([{ name: '2001', dn: '7000', members: [] }]), ["field 'name'", 'already a phone number']);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: [], ringTimeoutS: 0 }]), ["queues[0] (q)", "field 'ringTimeoutS'"]);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: [], wrapUpS: -1 }]), ["queues[0] (q)", "field 'wrapUpS'"]);
    refuses(() => withQueues([{ name: 'q', members: [] }]), ["queues[0] (q)", "field 'dn' is required"]);
    refuses(() => withQueues([{ name: 'q', dn: '7000', members: [], colour: 'red' }]), ["queues[0] (q)", "field 'colour' is not a known field"]);
  });
});

describe('directory: bcrypt secrets', () => {
  const hashOf = (secret: string, cost = 10) => bcrypt.hashSync(secret, cost);

  it('a bcrypt password ($2a$ / $2b$) checks the password, and counts as not plain text', () => {
    const two = bcrypt.hashSync('pw-b', 4).replace(/^\$2[ab]\$/, '$2a$');
    const directory = buildDirectory(
      {
        users: [
          { userName: 'hashed', password: hashOf('pw-a', 4), roles: ['ROLE_AGENT'] },
          { userName: 'legacy', password: two, roles: ['ROLE_AGENT'] },
          { userName: 'plain', password: 'pw-c', roles: ['ROLE_AGENT'] },
        ],
        clients: [{ clientId: 'app', clientSecret: hashOf('client-secret', 4), roles: ['ROLE_AGENT'] }],
      },
      'test',
    );
    assert.equal(directory.authenticate('hashed', 'pw-a')?.userName, 'hashed');
    assert.equal(directory.authenticate('hashed', 'pw-b'), undefined);
    assert.equal(directory.authenticate('legacy', 'pw-b')?.userName, 'legacy');
    assert.equal(directory.authenticate('plain', 'pw-c')?.userName, 'plain');
    assert.equal(directory.authenticate('nobody', 'pw-c'), undefined);
    assert.equal(directory.authenticateClient('app', 'client-secret')?.clientId, 'app');
    assert.equal(directory.authenticateClient('app', 'wrong'), undefined);
    assert.equal(directory.plainTextSecrets, 1, 'one plain-text password, no plain secret');
  });

  it('a successful bcrypt verification is remembered: bcrypt runs once for repeated right passwords, every time for wrong ones', () => {
    const hash = hashOf('pw', 4);
    let compares = 0;
    const check = secretCheck(hash, (given, h) => (compares++, bcrypt.compareSync(given, h)));
    assert.ok(check.matches('pw'));
    for (let i = 0; i < 50; i++) assert.ok(check.matches('pw'));
    assert.equal(compares, 1, 'fifty remembered checks, one bcrypt');
    // A wrong password is never remembered.
    assert.equal(check.matches('wrong'), false);
    assert.equal(check.matches('wrong'), false);
    assert.equal(compares, 3);
    const directory = buildDirectory({ users: [{ userName: 'slow', password: hash, roles: ['ROLE_AGENT'] }] }, 'test');
    assert.ok(directory.authenticate('slow', 'pw'));
    assert.equal(directory.authenticate('slow', 'wrong'), undefined);
  });
});
