// Ports for tests that need a port number before anything listens on it. Never "listen on 0,
// read the port, close it and hope it stays free": a waiting remote-help is started with
// `--port 0` and tells its port in its `listening` event (harness.ts, listeningPort). What is
// left here is a port that is truly reserved while nothing listens on it.
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';

// A TCP socket bound to 127.0.0.1:0 and never listening. While it is bound, the kernel hands its
// port to nobody else (neither `listen(0)` nor the local port of an outgoing connection), and
// connecting to it is refused (ECONNREFUSED): nothing listens. SO_REUSEADDR on it lets a listener
// of our own take the same port on purpose (Node, and so remote-help, and OpenSSH set
// SO_REUSEADDR on their listeners; Linux lets them bind beside a socket that does not listen).
// Node cannot bind a TCP socket without listening, so a small python3 child holds it; it exits
// when its stdin closes, that is when the test ends or this process dies.
const HOLD = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

/**
 * A loopback port held for the rest of the test (released in t.after): dialling it is refused
 * ("nobody listens here"), and a listener of ours may still take it on purpose (a port that
 * must stay the same across listens).
 */
export async function reservePort(t: TestContext): Promise<number> {
  const child = spawn('python3', ['-c', HOLD], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  t.after(async () => {
    child.stdin.end();
    child.kill('SIGKILL');
    await exited;
  });
  child.stdin.on('error', () => {}); // gone already: nothing to close
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`python3 could not reserve a port: ${e.message}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`python3 exited before reserving a port: ${err.trim()}`)));
  });
}
