import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress, parsePort } from '../src/net/address';
import { HelpError } from '../src/errors';

test('addresses are read as a person writes them, IPv6 in brackets with a port', () => {
  const rows: [string, string, number][] = [
    ['192.0.2.10', '192.0.2.10', 2222],
    ['192.0.2.10:2300', '192.0.2.10', 2300],
    ['  helper.example  ', 'helper.example', 2222],
    ['helper.example:22', 'helper.example', 22],
    ['[2001:db8::1]:2300', '2001:db8::1', 2300],
    ['[::1]', '::1', 2222],
    ['2001:db8::1', '2001:db8::1', 2222],
  ];
  for (const [text, host, port] of rows) assert.deepEqual(parseAddress(text), { host, port }, text);
});

test('bad addresses are usage errors that say what is wrong', () => {
  for (const text of ['', 'a b', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:http', '[1.2.3.4]:22', 'x;rm -rf /']) {
    assert.throws(() => parseAddress(text), (e: unknown) => e instanceof HelpError && e.exit === 'usage', text);
  }
});

test('ports are whole numbers from 1 to 65535', () => {
  assert.equal(parsePort('2222'), 2222);
  for (const t of ['0', '65536', '-1', '2e3', '22.5', '', 'abc']) assert.equal(parsePort(t), null, t);
});
