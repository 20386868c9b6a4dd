import { ApiException } from '@kubernetes/client-node';
import { isPassingTrouble } from '../../../local-cluster/kube';

// The stand-ins try a call again, as a controller requeues, only through trouble that passes: an
// API server restarting or overloaded. An answer about the object itself is final.
test('429, 5xx and connections refused or reset are passing trouble; answers about the object are not', () => {
  const refused = Object.assign(new Error('request to https://127.0.0.1:7443/api/v1/namespaces/x/pods failed, reason: connect ECONNREFUSED 127.0.0.1:7443'), {
    code: 'ECONNREFUSED',
  });
  const reset = Object.assign(new Error('request failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
  expect([429, 500, 502, 503, 504].map((code) => isPassingTrouble(new ApiException(code, 'x', undefined, {})))).toEqual([true, true, true, true, true]);
  expect(isPassingTrouble(refused)).toBe(true);
  expect(isPassingTrouble(reset)).toBe(true);
  expect([400, 403, 404, 409, 410, 422].map((code) => isPassingTrouble(new ApiException(code, 'x', undefined, {})))).toEqual([false, false, false, false, false, false]);
  expect(isPassingTrouble(new Error('status.applicationState must be an object'))).toBe(false);
  expect(isPassingTrouble('ECONNREFUSED')).toBe(false);
});
