/**
 * The room page (/room/:roomId): the pre-join screen (prejoin/PreJoin.ts),
 * then the room with a dev token, which a node in dev mode hands out to
 * pages opened on its own host. With `?name=` it joins at once, with the
 * devices and start-muted choices this browser remembers (devicePrefs.ts).
 * Query parameters: `name` (display name), `w` and `h` (capture size,
 * 1280x720 by default; tests ask for less). A fragment `#e2ee=<secret>`
 * makes the call end-to-end encrypted with that secret (e2ee/link.ts).
 */
import { joinChoices } from './devicePrefs';
import { secretOf } from './e2ee/link';
import { preJoin } from './prejoin/PreJoin';
import { startRoom, type RoomOptions } from './room';

const roomId = document.getElementById('app')!.dataset.roomId!;
const params = new URLSearchParams(location.search);
const size = { width: Number(params.get('w')) || 1280, height: Number(params.get('h')) || 720 };

async function devToken(name: string): Promise<string> {
	const res = await fetch('/api/dev/token', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ name, room: roomId }),
	});
	// NOTE: dev mode answers only this host, and not through a proxy; anyone
	// else gets the 404 of a node with dev mode off.
	if (res.status === 404) {
		throw new Error('this node does not hand out guest tokens here (dev mode is off, or this is not the node\'s own host)');
	}
	if (res.status === 429) {
		throw new Error('too many guest tokens from this address: try again in a minute');
	}
	if (!res.ok) {
		throw new Error(`no token (HTTP ${res.status})`);
	}
	return ((await res.json()) as { token: string }).token;
}

const link = secretOf(location.hash);
const e2eeSecret = link && 'secret' in link ? link.secret : undefined;

function join(choice: Pick<RoomOptions, 'name' | 'devices' | 'startMuted' | 'watchOnly'>): void {
	// NOTE: a link whose secret is unusable is refused, never joined in the clear.
	const token = link && 'problem' in link ? () => Promise.reject(new Error(link.problem)) : () => devToken(choice.name);
	// The failure is on the page already (startRoom shows it).
	startRoom({ roomId, ...size, token, e2eeSecret, ...choice }).catch(() => undefined);
}

const name = (params.get('name') ?? '').trim().slice(0, 64);
if (name) {
	join({ name, ...joinChoices() });
} else {
	void preJoin(roomId, size).then(join);
}
