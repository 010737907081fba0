import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utils } from 'ssh2';
import { freshKey, opensshEd25519, parsePublicBlob } from '../src/net/keys';

test('every session key is usable: 3000 fresh keys parse, sign and verify, whatever their bytes', () => {
  for (let i = 0; i < 3000; i++) {
    const k = freshKey();
    assert.equal(k.publicBlob.length, 51);
    const priv = utils.parseKey(k.privateKey);
    assert.ok(!(priv instanceof Error) && !Array.isArray(priv));
    const pub = parsePublicBlob(k.publicBlob);
    assert.ok(pub);
    const data = Buffer.from(`message ${i}`);
    assert.equal(pub.verify(data, priv.sign(data)), true);
  }
});

test('a public key that starts with zero bytes survives the encoding', () => {
  const seed = Buffer.alloc(32, 7);
  const pub = Buffer.concat([Buffer.alloc(3), Buffer.alloc(29, 9)]); // only the layout is checked here
  const k = opensshEd25519(seed, pub);
  assert.equal(k.publicBlob.length, 51);
  assert.ok(k.publicBlob.subarray(19).equals(pub));
  assert.match(k.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
});
