/**
 * A share of something another object owns (a pipe into a router, a count
 * of a router's consumers, a peer's seat on a router): `release()` gives it
 * back once; calling it again does nothing.
 */
export type Lease = { release(): void };

/** A lease whose first release runs `give back`. */
export function newLease(giveBack: () => void): Lease {
	let held = true;
	return {
		release: () => {
			if (held) {
				held = false;
				giveBack();
			}
		},
	};
}
