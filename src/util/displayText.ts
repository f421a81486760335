import { z } from 'zod';

/**
 * Characters a name other people see may not hold: control characters (C0,
 * DEL and C1, CR and LF among them), the line and paragraph separators, and
 * the bidirectional marks, embeddings, overrides and isolates that make a name
 * read differently from what it is. Joiners stay: emoji sequences need them.
 */
const UNSAFE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/**
 * A name shown to other people (a display name, a token's name claim, a call
 * link's title): trimmed, `min` (1 unless said) to `max` characters, none of
 * them unsafe (see UNSAFE).
 */
export function displayText(max: number, min = 1) {
	return z.string().trim().min(min).max(max).refine((text) => !UNSAFE.test(text), {
		error: 'expected no control, line-separator or bidirectional-override characters',
	});
}

/**
 * `text` without its unsafe characters (see UNSAFE), trimmed, or `fallback`
 * when nothing is left: for names stored before displayText checked them.
 */
export function withoutUnsafe(text: string, fallback: string): string {
	return text.replace(UNSAFE_ALL, '').trim() || fallback;
}
