/**
 * A share of something another object owns (a pipe into a router, a count
 * of a router's consumers, a peer's seat on a router): `release()` gives it
 * back once; calling it again does nothing.
 */
export type Lease = { release(): void };

/** A lease on a producer made consumable on a router; `ready` settles once it is (or the pipe failed). */
export type PipeLease = Lease & { ready: Promise<void> };

/** Something shared by reference count: its leases' holders, when it is ready, and how it closes. */
export type Shared = { users: number; ready: Promise<void>; close(): void };

/** One more lease on `shared`: held from now on (while `ready` is pending too); the last release closes it. */
export function sharedLease(shared: Shared): PipeLease {
	shared.users++;
	return {
		ready: shared.ready,
		...newLease(() => {
			if (--shared.users <= 0) {
				shared.close();
			}
		}),
	};
}

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
