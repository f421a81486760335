import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a presented secret (an admin or metrics token) equals the
 * configured one, in time that does not depend on where they differ: both
 * are hashed first, so their lengths do not show either.
 */
export function secretEquals(given: string, expected: string): boolean {
	const a = createHash('sha256').update(given).digest();
	const b = createHash('sha256').update(expected).digest();
	return timingSafeEqual(a, b);
}
