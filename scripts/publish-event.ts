/**
 * Publishes one event with core NATS, as the other services of the ticketing system do.
 *   npm run -s publish -- ticket:created '{"id":"t1","version":0,"title":"concert","price":20,"userId":"u1"}'
 */
import { connect } from 'nats';
import { ALL_SUBJECTS, type Subject } from '../src/orders/catalogue';

async function main(): Promise<void> {
  const [subject, json] = process.argv.slice(2);
  if (!subject || !json || !ALL_SUBJECTS.includes(subject as Subject)) {
    console.error(`usage: npm run -s publish -- <subject> '<json>'\nsubjects: ${ALL_SUBJECTS.join(', ')}`);
    process.exit(2);
  }
  const data: unknown = JSON.parse(json);
  const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const nc = await connect({ servers: url, timeout: 3000 }).catch(() => {
    console.error(`Cannot reach NATS at ${url}. Is \`npm run dev\` running?`);
    process.exit(1);
  });
  nc.publish(subject, JSON.stringify(data));
  await nc.drain();
  console.log(`published ${subject} ${JSON.stringify(data)}`);
}

void main();
