/**
 * A NATS cluster with JetStream on this machine: every node its own nats-server, routed to the
 * others, each with its own store. A stream with 3 replicas on 3 nodes keeps its quorum, and so
 * takes and serves messages, with any one node down.
 */
import path from 'node:path';
import { eventually } from './eventually';
import { startNatsServer, waitForPort, type ServerOutput, type ServerProcess } from './servers';

export interface NatsNodePorts {
  client: number;
  /** Where the other nodes route to this one. */
  cluster: number;
  /** HTTP monitoring: /healthz, /jsz, /routez. */
  monitor: number;
}

export interface NatsNode {
  name: string;
  ports: NatsNodePorts;
  process: ServerProcess;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  url: string;
  /** Starts a node again (after a kill) on its ports and store, and waits until it is back in the cluster. */
  restart(name: string): Promise<NatsNode>;
  stop(): Promise<void>;
}

export async function startNatsCluster(o: {
  ports: NatsNodePorts[];
  dataDir: string;
  name?: string;
  output?: (node: string) => ServerOutput;
}): Promise<NatsCluster> {
  const clusterName = o.name ?? 'orders';
  const names = o.ports.map((_, i) => `nats-${i + 1}`);
  const start = (i: number): NatsNode => {
    const ports = o.ports[i]!;
    const process = startNatsServer({
      port: ports.client,
      monitorPort: ports.monitor,
      storeDir: path.join(o.dataDir, names[i]!),
      output: o.output?.(names[i]!) ?? 'ignore',
      cluster: {
        name: clusterName,
        serverName: names[i]!,
        port: ports.cluster,
        routePorts: o.ports.filter((_, j) => j !== i).map((p) => p.cluster),
      },
    });
    return { name: names[i]!, ports, process };
  };
  const nodes = o.ports.map((_, i) => start(i));
  const cluster: NatsCluster = {
    nodes,
    url: o.ports.map((p) => `nats://127.0.0.1:${p.client}`).join(','),
    async restart(name) {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`no NATS node ${name}`);
      await nodes[i]!.process.stop();
      nodes[i] = start(i);
      await nodeReady(nodes[i]!, nodes.length);
      return nodes[i]!;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.process.stop()));
    },
  };
  try {
    await Promise.all(nodes.map((n) => nodeReady(n, nodes.length)));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * Listening, routed to every other node, JetStream's meta group has a leader, and /healthz says this
 * node's streams and consumers are current: after a restart on an old store, JetStream answers
 * its API only once they have caught up (a worker's first stream request would time out before).
 */
async function nodeReady(node: NatsNode, clusterSize: number): Promise<void> {
  await waitForPort(node.ports.client, node.name, 30_000, node.process);
  const monitor = `http://127.0.0.1:${node.ports.monitor}`;
  await eventually(
    async () => {
      const routes = (await (await fetch(`${monitor}/routez`)).json()) as { routes?: { remote_name?: string }[] };
      const peers = new Set((routes.routes ?? []).map((r) => r.remote_name));
      const jsz = (await (await fetch(`${monitor}/jsz`)).json()) as { meta_cluster?: { leader?: string } };
      const healthy = (await fetch(`${monitor}/healthz`)).ok;
      return peers.size >= clusterSize - 1 && jsz.meta_cluster?.leader && healthy ? true : undefined;
    },
    `${node.name} to join the NATS cluster with a JetStream leader`,
    60_000,
  );
}
