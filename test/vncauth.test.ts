// VNC passwords checked against the real tools: the password file byte for byte against what
// `x11vnc -storepasswd` writes, the challenge response against OpenSSL's own single DES and
// against a real x11vnc that accepts it (and refuses a wrong one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freshVncPassword, vncAuthResponse, vncPasswdFile } from '../src/net/vncauth';
import { tempDir } from './harness';
import { RfbRefused, rfbConnect } from './rfb';
import { startX11vnc, startXvfb } from './xdisplay';

/** The 8 bytes `x11vnc -storepasswd PASS FILE` writes for a password. */
function storepasswd(dir: string, password: string): Buffer {
  const file = path.join(dir, 'passwd');
  execFileSync('x11vnc', ['-storepasswd', password, file], { timeout: 10_000, stdio: 'ignore' });
  return fs.readFileSync(file);
}

test('the password file is byte for byte what x11vnc -storepasswd writes', () => {
  const dir = tempDir();
  const passwords = ['secret', 'abc', 'x', '12345678', 'longpassword1', '-abc', '"$\\x`', '~!@#%^&*', freshVncPassword(), freshVncPassword()];
  for (const p of passwords) assert.deepEqual(vncPasswdFile(p), storepasswd(dir, p), `password ${JSON.stringify(p)}`);
  // Known bytes, as x11vnc 0.9.16 wrote them here: the fixed key is bit-reversed like any VNC key.
  assert.equal(vncPasswdFile('secret').toString('hex'), '2e2dbf576eb06c9e');
  // Only the first 8 characters count.
  assert.deepEqual(vncPasswdFile('longpassword1'), vncPasswdFile('longpass'));
});

/** Single DES in ECB mode by the openssl command with its legacy provider (no triple-DES trick). */
function opensslDes(keyHex: string, data: Buffer): Buffer {
  return execFileSync('openssl', ['enc', '-des-ecb', '-K', keyHex, '-nopad', '-provider', 'legacy', '-provider', 'default'], { input: data, timeout: 10_000 });
}

test('the challenge response is single DES with the bit-reversed password as key', () => {
  const challenge = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  // "secret" padded to 8 bytes with each byte's bits reversed is ce a6 c6 4e a6 2e 00 00.
  assert.equal(vncAuthResponse('secret', challenge).toString('hex'), 'ee22539f33a5983ec12f9c2edbc995dd');
  assert.deepEqual(vncAuthResponse('secret', challenge), opensslDes('cea6c64ea62e0000', challenge));
  // "hunter2!x": cut to "hunter2!", reversed 16 ae 76 2e a6 4e 4c 84.
  assert.deepEqual(vncAuthResponse('hunter2!x', challenge), opensslDes('16ae762ea64e4c84', challenge));
  assert.throws(() => vncAuthResponse('secret', Buffer.alloc(8)), /16 bytes/);
});

test('fresh passwords are 8 letters and digits that do not look alike, and differ', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const p = freshVncPassword();
    assert.match(p, /^[A-HJ-NP-Za-km-np-z2-9]{8}$/);
    seen.add(p);
  }
  assert.equal(seen.size, 1000);
});

test('a real x11vnc takes the response for its password file and refuses another password', { timeout: 60_000 }, async (t) => {
  const x = await startXvfb(t, { width: 320, height: 240 });
  const dir = tempDir();
  const password = freshVncPassword();
  const passwordFile = path.join(dir, 'passwd');
  fs.writeFileSync(passwordFile, vncPasswdFile(password));
  const vnc = await startX11vnc(t, x, { passwordFile });
  const login = (p: string) => rfbConnect(net.connect(vnc.port, '127.0.0.1'), { password: p });

  const client = await login(password);
  assert.equal(client.securityUsed, 2);
  client.close();
  await assert.rejects(login(`${password.slice(0, 7)}${password[7] === 'a' ? 'b' : 'a'}`), (e: unknown) =>
    e instanceof RfbRefused && /password check failed/.test(e.reason));
  // VNC reads only 8 characters: what follows them is not part of the password.
  (await login(`${password}anything`)).close();
});
