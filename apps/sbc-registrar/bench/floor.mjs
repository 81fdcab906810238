// The floor of the benchmark: a drachtio-srf app that answers REGISTER 401 then 200 with no logic
// (no Redis, MySQL or hook). `BENCH_APP=bench/floor.mjs pnpm bench` shows what the engine and
// drachtio-srf alone cost per registration.
import { createServer } from 'node:http';
import { createSrf } from '@sbc/service';

const srf = createSrf();
srf.on('error', () => undefined);
srf.register((req, res) => {
  if (!req.has('Authorization')) {
    res.send(401, {
      headers: { 'WWW-Authenticate': 'Digest realm="floor", algorithm=MD5, qop="auth", nonce="n"' },
    });
  } else {
    res.send(200, { headers: { Contact: req.get('Contact'), Expires: '30' } });
  }
});
srf.connect({
  host: process.env.DRACHTIO_HOST,
  port: Number(process.env.DRACHTIO_PORT),
  secret: process.env.DRACHTIO_SECRET,
});
// The bench waits for /readyz.
createServer((_req, res) => res.end('{}')).listen(Number(process.env.HTTP_PORT), '127.0.0.1');
