import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { freePort, startNatsServer, waitForPort } from '../../scripts/lib/servers';

/** A real nats-server with JetStream on a free port and a temporary store. */
export interface TestNats {
  url: string;
  /** Stops the server but keeps its JetStream store, as an outage would. */
  pause(): Promise<void>;
  /** Starts it again on the same port and store. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestNats(): Promise<TestNats> {
  const port = await freePort();
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-nats-'));
  const start = async () => {
    const s = startNatsServer({ port, storeDir });
    await waitForPort(port, 'nats-server', 20_000, s).catch(async (err: unknown) => {
      await s.stop();
      throw err;
    });
    return s;
  };
  let server = await start().catch((err: unknown) => {
    fs.rmSync(storeDir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    pause: () => server.stop(),
    resume: async () => {
      server = await start();
    },
    stop: async () => {
      await server.stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A plain core NATS client, as another service of the ticketing system would use. */
export class CoreNatsPeer {
  private constructor(readonly nc: NatsConnection) {}
  static async connect(url: string): Promise<CoreNatsPeer> {
    // Back within 100 ms of an outage's end, before the service's bus (1 s), which publishes as soon
    // as it is back: a core subscriber only sees what is published while it is connected.
    const servers = url.split(','); // a cluster's, as NATS_URL lists them
    return new CoreNatsPeer(await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 }));
  }
  /** A bound function, so that it can be handed on (to `ticketThenOrder`). */
  readonly publish = (subject: string, data: unknown): Promise<void> => {
    this.nc.publish(subject, JSON.stringify(data));
    return this.nc.flush();
  };
  /** Records every message on the subjects, for `waitFor`. */
  record(subjects: string[]): Recorder {
    return new Recorder(subjects.map((s) => this.nc.subscribe(s)));
  }
  close(): Promise<void> {
    return this.nc.drain();
  }
}

export interface RecordedMessage {
  subject: string;
  data: Record<string, unknown>;
  /** The W3C trace context header the publisher sent, if any. */
  traceparent?: string;
  /** JetStream's de-duplication id (`Nats-Msg-Id`): one per event, however often it is published. */
  msgId?: string;
}

export class Recorder {
  readonly messages: RecordedMessage[] = [];
  private waiters: Array<() => void> = [];
  constructor(private readonly subs: Subscription[]) {
    for (const sub of subs) {
      void (async () => {
        for await (const m of sub) {
          this.messages.push({
            subject: m.subject,
            data: JSON.parse(m.string()) as Record<string, unknown>,
            ...(m.headers?.has('traceparent') ? { traceparent: m.headers.get('traceparent') } : {}),
            ...(m.headers?.has('Nats-Msg-Id') ? { msgId: m.headers.get('Nats-Msg-Id') } : {}),
          });
          this.waiters.forEach((w) => w());
        }
      })();
    }
  }
  /** Resolves with the first message that matches; fails after `timeoutMs` listing what did arrive. */
  waitFor(subject: string, match: (data: Record<string, unknown>) => boolean = () => true, timeoutMs = 30_000) {
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const m = this.messages.find((x) => x.subject === subject && match(x.data));
        if (m) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(m.data);
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no ${subject} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }
  count(subject: string, match: (data: Record<string, unknown>) => boolean = () => true): number {
    return this.messages.filter((x) => x.subject === subject && match(x.data)).length;
  }
  stop(): void {
    this.subs.forEach((s) => s.unsubscribe());
  }
}
