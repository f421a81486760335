/**
 * The lobby (GET /): its form goes to /room?name=&room= without a script.
 * With "End-to-end encrypted" ticked, this makes a new secret here and goes
 * straight to the room's link with the secret in its fragment
 * (`/room/<id>?name=#e2ee=<secret>`), which the server never sees; the room
 * page shows that link to share.
 */
import { newSecret, secretFragment } from './e2ee/link';

const form = document.getElementById('lobby') as HTMLFormElement;
form.addEventListener('submit', (event) => {
	const data = new FormData(form);
	if (data.get('e2ee') !== 'on') {
		return;
	}
	event.preventDefault();
	const room = String(data.get('room') ?? '');
	const name = String(data.get('name') ?? '');
	location.assign(`/room/${encodeURIComponent(room)}?name=${encodeURIComponent(name)}${secretFragment(newSecret())}`);
});
