/** RESP2 replies, parsed from a buffer that may hold part of one (resp-client.ts). */

export class ReplyError extends Error {
  override name = 'ReplyError';
}

export type Reply = string | number | null | ReplyError | Reply[];

/** The reply starting at `offset`, and where the next starts; undefined when it has not all arrived yet. */
export function parseReply(buf: Buffer, offset: number): { value: Reply; next: number } | undefined {
  if (offset >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', offset + 1, eol);
  const after = eol + 2;
  switch (String.fromCharCode(buf[offset]!)) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new ReplyError(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: Reply[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(buf.toString('utf8', offset, offset + 1))}`);
  }
}
