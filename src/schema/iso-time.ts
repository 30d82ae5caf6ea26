const DAY_MS = 86_400_000;
/** Beyond this, Date has no time at all (ECMAScript's time range). */
const MAX_TIME_MS = 8.64e15;

/** The day last formatted, and its `YYYY-MM-DDT` (or `+YYYYYY-MM-DDT`). */
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

const twoDigits = (n: number) => (n < 10 ? '0' : '') + n;
const threeDigits = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/**
 * `new Date(ms).toISOString()`, four times faster: the date part is formatted once a day and the time of day by
 * arithmetic. Each delivered event's timestamp goes through it (toISOString was 2.4 % of the gateway's busy CPU at
 * 15,000 events/s, bench/README.md). What is not a whole millisecond in Date's range is left to Date.
 */
export function isoTimeOf(ms: number): string {
  if (!Number.isInteger(ms) || Math.abs(ms) > MAX_TIME_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    const iso = new Date(day * DAY_MS).toISOString();
    cachedDayPrefix = iso.slice(0, iso.indexOf('T') + 1);
    cachedDay = day;
  }
  let rest = ms - day * DAY_MS;
  const milliseconds = rest % 1000;
  rest = (rest - milliseconds) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${cachedDayPrefix}${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}.${threeDigits(milliseconds)}Z`;
}
