// Compile-time only (npm run typecheck here): the plain-JS implementation, as TypeScript infers it
// from its JSDoc, must be assignable to the hand-written index.d.ts that consumers compile against.
import type * as api from './index';
import * as impl from './src/index.js';

export const connect: typeof api.connect = impl.connect;
export const version: typeof api.version = impl.version;
export const startPosition: typeof api.StartPosition = impl.StartPosition;
export type Conforms = [
  Assert<InstanceType<typeof impl.Stan>, api.Stan>,
  Assert<InstanceType<typeof impl.Subscription>, api.Subscription>,
  Assert<InstanceType<typeof impl.Message>, api.Message>,
  Assert<InstanceType<typeof impl.SubscriptionOptions>, api.SubscriptionOptions>,
];
type Assert<Impl extends Api, Api> = [Impl, Api];
