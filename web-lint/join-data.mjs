// Join the data segments of a WebAssembly module into one: node web-lint/join-data.mjs file.wasm
//
// wasm-opt's memory packing splits the module's data at every run of zero bytes (memory starts
// zeroed, so they need not be stored): about 1,300 segments here, each with its own offset and
// length, which cost gzip more than the zeros they leave out. One segment with the zeros written
// back is about 36 KB larger raw and about 4 KB smaller as a web server sends it (zlib gzip -9),
// and smaller with brotli too. The module's contents in memory are the same byte for byte.
//
// Only active segments of memory 0 at constant offsets are joined (what rustc and wasm-bindgen
// produce without threads); anything else is an error, and the file is left as it was.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node web-lint/join-data.mjs file.wasm");
  process.exit(2);
}
const bytes = readFileSync(file);
const fail = (msg) => {
  console.error(`join-data: ${file}: ${msg}; left unchanged`);
  process.exit(1);
};

function uleb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [result, pos];
  }
}
function sleb32(buf, pos) {
  let result = 0;
  let shift = 0;
  let b;
  do {
    b = buf[pos++];
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return [result, pos];
}
function encUleb(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
function encSleb32(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return Buffer.from(out);
    }
    out.push(b | 0x80);
  }
}

if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) fail("not a WebAssembly module");
const sections = [];
for (let pos = 8; pos < bytes.length; ) {
  const id = bytes[pos];
  const [size, start] = uleb(bytes, pos + 1);
  sections.push({ id, body: bytes.subarray(start, start + size) });
  pos = start + size;
}
const data = sections.find((s) => s.id === 11);
if (!data) fail("no data section");

const segments = [];
let [count, pos] = uleb(data.body, 0);
for (let i = 0; i < count; i++) {
  let flags;
  [flags, pos] = uleb(data.body, pos);
  if (flags !== 0) fail(`data segment ${i} is not an active segment of memory 0 (flags ${flags})`);
  if (data.body[pos] !== 0x41) fail(`data segment ${i} has no i32.const offset`);
  let offset;
  [offset, pos] = sleb32(data.body, pos + 1);
  if (data.body[pos] !== 0x0b) fail(`data segment ${i}: its offset is not a constant`);
  let size;
  [size, pos] = uleb(data.body, pos + 1);
  segments.push({ offset: offset >>> 0, bytes: data.body.subarray(pos, pos + size) });
  pos += size;
}
if (pos !== data.body.length) fail("trailing bytes after the data segments");
if (segments.length < 2) process.exit(0);

segments.sort((a, b) => a.offset - b.offset);
const first = segments[0].offset;
const last = segments[segments.length - 1];
const joined = Buffer.alloc(last.offset + last.bytes.length - first);
let end = first;
for (const s of segments) {
  if (s.offset < end) fail(`data segments overlap at ${s.offset}`);
  s.bytes.copy(joined, s.offset - first);
  end = s.offset + s.bytes.length;
}
data.body = Buffer.concat([
  encUleb(1),
  Buffer.from([0x00, 0x41]),
  encSleb32(first | 0),
  Buffer.from([0x0b]),
  encUleb(joined.length),
  joined,
]);
const dataCount = sections.find((s) => s.id === 12);
if (dataCount) dataCount.body = encUleb(1);

const out = [bytes.subarray(0, 8)];
for (const s of sections) out.push(Buffer.from([s.id]), encUleb(s.body.length), s.body);
writeFileSync(file, Buffer.concat(out));
