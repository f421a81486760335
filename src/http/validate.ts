import type { z } from 'zod';
import { ValidationError } from '../errors';

/** Parses `value` with `schema`, or throws validation_failed naming the fields (at most 3). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
	const result = schema.safeParse(value);
	if (!result.success) {
		throw new ValidationError(result.error.issues.slice(0, 3).map((issue) =>
			`${issue.path.length > 0 ? issue.path.join('.') : what}: ${issue.message.replace(/^Invalid input: /, '')}`).join('; '));
	}
	return result.data;
}
