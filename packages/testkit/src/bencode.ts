/** Just enough bencode for rtpengine's NG protocol (dictionaries, lists, strings, integers). */
export type BValue = string | number | BValue[] | { [key: string]: BValue };

export function bencode(value: BValue): string {
  if (typeof value === 'number') return `i${Math.trunc(value)}e`;
  if (typeof value === 'string') return `${Buffer.byteLength(value)}:${value}`;
  if (Array.isArray(value)) return `l${value.map(bencode).join('')}e`;
  const keys = Object.keys(value).sort();
  return `d${keys.map((k) => bencode(k) + bencode(value[k]!)).join('')}e`;
}

export function bdecode(input: Buffer): BValue {
  let pos = 0;
  const parse = (): BValue => {
    const c = String.fromCharCode(input[pos] ?? 0);
    if (c === 'i') {
      const end = input.indexOf(0x65, pos);
      const n = Number(input.subarray(pos + 1, end).toString());
      pos = end + 1;
      return n;
    }
    if (c === 'l' || c === 'd') {
      pos++;
      const items: BValue[] = [];
      while (input[pos] !== 0x65) {
        if (pos >= input.length) throw new Error('bencode: unterminated list');
        items.push(parse());
      }
      pos++;
      if (c === 'l') return items;
      const dict: Record<string, BValue> = {};
      for (let i = 0; i + 1 < items.length; i += 2) {
        const key = items[i];
        if (typeof key !== 'string') throw new Error('bencode: dictionary key is not a string');
        dict[key] = items[i + 1]!;
      }
      return dict;
    }
    const colon = input.indexOf(0x3a, pos);
    const len = Number(input.subarray(pos, colon).toString());
    if (colon < 0 || !Number.isInteger(len)) throw new Error(`bencode: bad token at ${pos}`);
    const str = input.subarray(colon + 1, colon + 1 + len).toString();
    pos = colon + 1 + len;
    return str;
  };
  return parse();
}
