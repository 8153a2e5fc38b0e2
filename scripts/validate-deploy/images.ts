/** `nats:2.15.1-alpine` is pinned; `nats`, `nats:latest` and `registry:5000/nats` are not. */
export function isPinnedImage(image: string): boolean {
  const lastSegment = image.split('/').pop() ?? '';
  if (!lastSegment.includes(':')) return false;
  const tag = image.slice(image.lastIndexOf(':') + 1);
  return tag !== '' && tag !== 'latest';
}
