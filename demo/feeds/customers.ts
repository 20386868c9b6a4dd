import { dateOf, timeOf } from './format';
import { Random, Weighted } from './random';
import { type FeedRenderer, columnsOf } from './renderer';
import { COUNTRIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, STAGES, emailSlug } from './vocabulary';
import { CUSTOMER_CHANNELS, type World, customerId } from './world';

export function customersFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('customers', [
    'customer_id', 'full_name', 'email', 'date_of_birth', 'country', 'segment', 'channel', 'onboarding_stage',
    'kyc_status', 'onboarded_at',
  ]);
  const random = new Random(world.seed, 'customers');
  const segments = new Weighted<string>([['RETAIL', 85], ['SME', 12], ['PRIVATE', 3]]);
  const { customer } = world;
  return {
    spec,
    rows: world.sizes.customers,
    id: customerId,
    isProtected: (i) => customer.protected.has(i),
    targets: { id: col.customer_id, date: col.date_of_birth, text: col.full_name },
    render(i, f) {
      const first = random.pick(FIRST_NAMES);
      const last = random.pick(LAST_NAMES);
      const stage = customer.stage[i]!;
      f[col.customer_id] = customerId(i);
      f[col.full_name] = `${first} ${last}`;
      f[col.email] = random.chance(0.9)
        ? `${emailSlug(first)}.${emailSlug(last)}${random.chance(0.4) ? random.int(100) : ''}@${random.pick(EMAIL_DOMAINS)}`
        : '';
      f[col.date_of_birth] = dateOf(world.businessDay - 18 * 365 - random.int(70 * 365));
      f[col.country] = COUNTRIES.pick(random);
      f[col.segment] = segments.pick(random);
      f[col.channel] = CUSTOMER_CHANNELS[customer.channel[i]!]!;
      f[col.onboarding_stage] = STAGES[stage]!;
      f[col.kyc_status] = stage < 2 ? 'PENDING' : stage === 2 && random.chance(0.2) ? 'REJECTED' : 'VERIFIED';
      f[col.onboarded_at] = `${dateOf(customer.onboardedDay[i]!)}T${timeOf(customer.onboardedSecond[i]!)}Z`;
      return 0;
    },
  };
}
