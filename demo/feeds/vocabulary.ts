import { PAD2 } from './format';
import { Random, Weighted } from './random';

// Reference data.

export const FIRST_NAMES = [
  'Anna', 'Lukas', 'Sophie', 'Maximilian', 'Marie', 'Paul', 'Emma', 'Jonas', 'Lea', 'Felix', 'Hannah', 'Leon',
  'Julia', 'Elias', 'Clara', 'Noah', 'Léa', 'Hugo', 'Chloé', 'Louis', 'Camille', 'Théo', 'Manon', 'Gabriel',
  'Daan', 'Sanne', 'Bram', 'Fleur', 'Lucía', 'Javier', 'Carmen', 'Pablo', 'Giulia', 'Lorenzo', 'Francesca',
  'Matteo', 'Zofia', 'Łukasz', 'Agnieszka', 'Piotr', 'João', 'Inês', 'Siobhan', 'Ciarán', 'Erik', 'Astrid',
  'Mikkel', 'Ingrid', 'Jürgen', 'Renée', 'Fatma', 'Mehmet', 'Aylin', 'Omar', 'Amira', 'Olga', 'Dmitri', 'Nora',
] as const;

export const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer',
  'Koch', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Martin', 'Bernard', 'Dubois', 'Lefèvre', 'Moreau',
  'Laurent', 'de Jong', 'Jansen', 'van der Berg', 'Bakker', 'García', 'Fernández', 'López', 'Martínez', 'Rossi',
  'Russo', 'Ferrari', 'Esposito', 'Nowak', 'Kowalski', 'Wiśniewski', 'Silva', 'Santos', "O'Brien", 'Murphy',
  'Kelly', 'Andersson', 'Nielsen', 'Hansen', 'Berg', 'Yılmaz', 'Kaya', 'Haddad', 'Ivanova', 'Peeters', 'Maes',
  'Gruber', 'Huber', 'Novák', 'Nagy', 'Keller', 'Brunner',
] as const;

export const COMPANY_FORMS = ['GmbH', 'AG', 'SE', 'SARL', 'SA', 'BV', 'NV', 'S.r.l.', 'S.L.', 'Ltd', 'sp. z o.o.', 'KG'] as const;
export const COMPANY_TRADES = [
  'Logistik', 'Bau', 'Immobilien', 'Consulting', 'Elektro', 'Haustechnik', 'Software', 'Handel', 'Transporte',
  'Energie', 'Catering', 'Medien', 'Dental', 'Autohaus', 'Reisen', 'Versicherungsmakler',
] as const;
export const UTILITIES = [
  'Stadtwerke Nordhafen', 'Telekom Service', 'Vattenfeld Energie', 'Allgemeine Versicherung', 'Hausverwaltung Lindenhof',
  'Finanzamt Mitte', 'Rundfunkbeitrag Service', 'Krankenkasse Plus', 'Mobilfunk Direkt', 'Wasserwerke Süd',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'post.example'] as const;

export const MERCHANTS: readonly (readonly [string, string])[] = [
  ['5411', 'REWE Markt'], ['5411', 'Lidl'], ['5411', 'Carrefour'], ['5411', 'Albert Heijn'], ['5411', 'Mercadona'],
  ['5411', 'Esselunga'], ['5812', 'Trattoria Da Mario'], ['5812', 'Brasserie du Port'], ['5814', 'Bäckerei Kamps'],
  ['5814', 'Coffee Fellows'], ['5541', 'Aral Tankstelle'], ['5541', 'Shell Station'], ['5912', 'Apotheke am Markt'],
  ['5311', 'Galeria'], ['5732', 'MediaMarkt'], ['5651', 'H&M'], ['5651', 'Zara'], ['4111', 'DB Fernverkehr'],
  ['4121', 'Taxi Zentrale'], ['7011', 'Hotel Ibis'], ['5999', 'dm-drogerie markt'], ['5942', 'Thalia Buchhandlung'],
];
export const ONLINE_MERCHANTS: readonly (readonly [string, string])[] = [
  ['5999', 'AMZN Mktp EU'], ['5815', 'Spotify'], ['5815', 'Netflix'], ['4899', 'Vodafone Online'],
  ['5311', 'Zalando'], ['4121', 'Uber BV'], ['5812', 'Lieferando'], ['7011', 'Booking.com'],
];
export const CITIES = ['Berlin', 'Hamburg', 'Muenchen', 'Koeln', 'Frankfurt', 'Paris', 'Lyon', 'Amsterdam', 'Madrid', 'Milano', 'Wien', 'Bruxelles'] as const;

export const COUNTRIES = new Weighted<string>([
  ['DE', 40], ['FR', 10], ['NL', 8], ['AT', 6], ['ES', 6], ['IT', 6], ['BE', 5], ['PL', 4], ['PT', 3], ['GB', 3],
  ['IE', 2], ['LU', 2], ['CH', 2], ['US', 2], ['SE', 1],
]);

/** BBAN shapes: n digit, a letter, c letter or digit. */
export const IBAN_SHAPES: readonly (readonly [string, string])[] = [
  ['DE', 'nnnnnnnnnnnnnnnnnn'], ['FR', 'nnnnnnnnnncccccccccccnn'], ['NL', 'aaaannnnnnnnnn'], ['ES', 'nnnnnnnnnnnnnnnnnnnn'],
  ['IT', 'annnnnnnnnncccccccccccc'], ['BE', 'nnnnnnnnnnnn'],
  ['AT', 'nnnnnnnnnnnnnnnn'], ['PL', 'nnnnnnnnnnnnnnnnnnnnnnnn'], ['LU', 'nnnccccccccccccc'], ['GB', 'aaaannnnnnnnnnnnnn'],
];

/** Reporting-currency (EUR) units per unit, as integers scaled by 10^8 before the day's jitter. */
export const BASE_RATES: Readonly<Record<string, number>> = {
  EUR: 100_000_000, USD: 92_000_000, GBP: 117_000_000, CHF: 105_000_000, JPY: 610_000, SEK: 8_700_000,
  NOK: 8_500_000, DKK: 13_400_000, PLN: 23_000_000, CZK: 4_000_000, HUF: 250_000, CAD: 67_000_000,
  AUD: 60_000_000, SGD: 69_000_000,
};

export const UNKNOWN_CURRENCIES = ['XXZ', 'EUX', 'RUR', 'USX'] as const;

export const STAGES = ['APPLIED', 'DOCUMENTS_SUBMITTED', 'KYC_CHECKED', 'APPROVED', 'ACTIVE'] as const;
export const APPROVED = 3;
export const ACTIVE = 4;

/** Hour-of-day weights for card and online activity (UTC, roughly European daytime). */
export const DAY_HOURS = new Weighted<number>(
  [1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 8, 9, 10, 11, 10, 9, 9, 10, 11, 11, 9, 7, 5, 3, 2].map((w, h) => [h, w] as const),
);

export function daySecond(random: Random): number {
  return DAY_HOURS.pick(random) * 3600 + random.int(3600);
}

export function emailSlug(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/ı/g, 'i')
    .replace(/[^a-z]/g, '');
}

export function iban(country: string, bban: string): string {
  // ISO 13616: check digits make (BBAN + country + "00") mod 97 equal 1 once set.
  const rearranged = `${bban}${country}00`;
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    remainder = c <= 57 ? (remainder * 10 + (c - 48)) % 97 : (remainder * 100 + (c - 55)) % 97;
  }
  return `${country}${PAD2[98 - remainder]}${bban}`;
}

export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const ALPHANUMERIC = `${LETTERS}0123456789`;

export function randomIban(random: Random): string {
  const [country, shape] = random.pick(IBAN_SHAPES);
  let bban = '';
  for (const kind of shape) {
    bban += kind === 'n' ? String(random.int(10)) : kind === 'a' ? LETTERS[random.int(26)] : ALPHANUMERIC[random.int(36)];
  }
  return iban(country, bban);
}

export function personName(random: Random): string {
  const first = random.pick(FIRST_NAMES);
  const last = random.pick(LAST_NAMES);
  return random.chance(0.06) ? `${first} ${random.pick(FIRST_NAMES)} ${last}` : `${first} ${last}`;
}
