/**
 * The kubelet's log endpoint for the API server's `pods/log` (what `kubectl logs` and the
 * platform's driver-log tail call): HTTPS on loopback, `/containerLogs/<ns>/<pod>/<container>`
 * with `tailLines` and `limitBytes`, from the files the runtime writes. The nodes it serves are
 * told where it listens (status.addresses = 127.0.0.1, daemonEndpoints.kubeletEndpoint.Port),
 * as a kubelet reports its own node; the API server does not check a kubelet's certificate unless
 * it is given a CA for it, so a self-signed one is made at start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';

export interface LogServerOptions {
  readonly kubeConfig: KubeConfig;
  readonly port: number;
  /** Where the key and certificate are made. */
  readonly stateDir: string;
  /** The file of a container's log. */
  readonly logPath: (namespace: string, pod: string, container: string) => string;
  readonly nodes: () => Promise<readonly string[]>;
}

export class LogServer {
  private server?: https.Server;
  private served: readonly string[] = [];

  constructor(private readonly options: LogServerOptions) {}

  async start(): Promise<void> {
    const key = path.join(this.options.stateDir, 'log-server.key');
    const cert = path.join(this.options.stateDir, 'log-server.crt');
    if (!existsSync(cert)) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=nightjar-local-runtime', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    }
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const file = match === null ? undefined : this.options.logPath(decodeURIComponent(match[1] as string), decodeURIComponent(match[2] as string), decodeURIComponent(match[3] as string));
      if (req.method !== 'GET' || file === undefined || !existsSync(file)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such container log\n');
        return;
      }
      let text = readFileSync(file, 'utf8');
      const tail = Number(url.searchParams.get('tailLines') ?? NaN);
      if (Number.isInteger(tail) && tail >= 0) {
        const lines = text.split('\n');
        if (lines.at(-1) === '') lines.pop();
        text = lines.slice(lines.length - tail).map((l) => `${l}\n`).join('');
      }
      const limit = Number(url.searchParams.get('limitBytes') ?? NaN);
      if (Number.isInteger(limit) && limit > 0) text = text.slice(0, limit);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.served = await this.options.nodes();
    await this.advertise(this.options.port);
  }

  async stop(): Promise<void> {
    // The nodes point nowhere again: the API server answers at once instead of timing out.
    await this.advertise(0).catch(() => undefined);
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private async advertise(port: number): Promise<void> {
    const core = this.options.kubeConfig.makeApiClient(CoreV1Api);
    for (const name of this.served) {
      await core.patchNodeStatus(
        { name, body: { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  }
}
