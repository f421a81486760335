/**
 * The room's chat (docs/protocol.md, chat.send / chat.message): a panel that
 * the Chat button opens, the count of messages come while it was closed on
 * the button. Messages are text nodes, never markup. The node keeps none: a
 * page that joins later starts with an empty chat. Only in plain rooms for
 * now (an end-to-end encrypted room takes sealed messages, which this page
 * does not make yet).
 */
import { RequestError, type Signaling } from './signaling';

/** What the page says of a message the node refused. */
export function refusalText(error: unknown): string {
	if (error instanceof RequestError && error.code === 'rate_limited') {
		return 'You are sending messages too fast: wait a moment, then send it again.';
	}
	return `Not sent: ${(error as Error).message}`;
}

export function wireChat(signaling: Signaling): void {
	const button = document.getElementById('chat-toggle') as HTMLButtonElement;
	const label = button.querySelector('.label')!;
	const panel = document.getElementById('chat')!;
	const log = document.getElementById('chat-log')!;
	const form = document.getElementById('chat-form') as HTMLFormElement;
	const input = document.getElementById('chat-input') as HTMLInputElement;
	const problem = document.getElementById('chat-problem')!;
	let unread = 0;

	const setUnread = (count: number): void => {
		unread = count;
		label.textContent = count > 0 ? `Chat · ${count}` : 'Chat';
		button.title = count > 0 ? `Open the chat: ${count} new` : panel.hidden ? 'Open the chat' : 'Close the chat';
	};
	const add = (name: string, text: string, own: boolean): void => {
		const item = document.createElement('li');
		if (own) {
			item.dataset.own = '';
		}
		const who = document.createElement('b');
		who.textContent = name;
		item.append(who, ' ', text);
		log.append(item);
		log.scrollTop = log.scrollHeight;
	};

	button.hidden = false;
	signaling.on('chat.message', ({ name, text }) => {
		if (text === undefined) {
			return;
		}
		add(name, text, false);
		if (panel.hidden) {
			setUnread(unread + 1);
		}
	});
	button.addEventListener('click', () => {
		panel.hidden = !panel.hidden;
		button.setAttribute('aria-pressed', String(!panel.hidden));
		setUnread(panel.hidden ? unread : 0);
		if (!panel.hidden) {
			input.focus();
		}
	});
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const text = input.value.trim();
		if (text === '') {
			return;
		}
		signaling.request('chat.send', { text }).then(() => {
			add('You', text, true);
			input.value = '';
			problem.hidden = true;
		}, (error: unknown) => {
			problem.textContent = refusalText(error);
			problem.hidden = false;
		});
	});
}
