import { expect, it } from 'vitest';
import { negotiateExpires } from './binding.js';

it('negotiates expires exactly as jambonz (reference §3.3), capped at the request', () => {
  // granted = hook expires when given (and not above the request), else the request
  expect(negotiateExpires(3600, {}, 'tcp', 30)).toEqual({ granted: 3600, returned: 3600 });
  expect(negotiateExpires(3600, { expires: 45 }, 'tcp', 30)).toEqual({ granted: 45, returned: 45 });
  expect(negotiateExpires(60, { expires: 600 }, 'tcp', 30)).toEqual({ granted: 60, returned: 60 });
  expect(negotiateExpires(60, { expires: 0 }, 'wss', 30)).toEqual({ granted: 60, returned: 60 });
  // UDP clients are told NAT_EXPIRES when the grant is longer
  expect(negotiateExpires(3600, { expires: 45 }, 'udp', 30)).toEqual({ granted: 45, returned: 30 });
  expect(negotiateExpires(20, {}, 'udp', 30)).toEqual({ granted: 20, returned: 20 });
});
