/**
 * `npm run image`: the project's image, built here from its real Dockerfile although no registry can
 * be pulled from: starts the Docker engine if it is not running (and leaves it running), makes the
 * Node base image the Dockerfile starts FROM (once per machine), then `docker build`s the project.
 * Usage: npm run image [-- <tag>]   (default orders-lifecycle:local)
 */
import { ensureNodeBaseImage } from './lib/image-base';
import { buildImage, ensureDockerd, IMAGE_TAG, imageInfo, log, since } from './lib/image';

async function step<T>(what: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await work();
  log(`${what}: ${since(start)}`);
  return result;
}

async function main(): Promise<void> {
  const tag = process.argv[2] ?? IMAGE_TAG;
  await step('Docker engine', () => ensureDockerd());
  const base = await step('Node base image', () => ensureNodeBaseImage());
  await step(`docker build -t ${tag} (FROM ${base})`, () => buildImage(tag));
  const { id, size } = await imageInfo(tag);
  log(`${tag}: ${id}, ${(size / 1e6).toFixed(0)} MB`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
