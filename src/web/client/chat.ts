/**
 * The room's chat (docs/protocol.md, chat.send / chat.message): a panel that
 * the Chat button opens, the count of messages come while it was closed on
 * the button. Messages are text nodes, never markup. The node keeps none: a
 * page that joins later starts with an empty chat. In an end-to-end
 * encrypted room every message is sealed here and opened by the receivers
 * (`sealer`, e2ee/chatSeal.ts); one that does not open says so.
 */
import type { ChatSealer } from './e2ee/chatSeal';
import { wirePanel } from './panels';
import { RequestError, type Signaling } from './signaling';

/** What the page says of a message the node refused. */
export function refusalText(error: unknown): string {
	if (error instanceof RequestError && error.code === 'rate_limited') {
		return 'You are sending messages too fast: wait a moment, then send it again.';
	}
	return `Not sent: ${(error as Error).message}`;
}

/** What a receiver shows for a sealed message that does not open with its keys. */
export const UNDECRYPTABLE_TEXT = 'Could not decrypt this message: they use another key (a different link)';

export function wireChat(signaling: Signaling, sealer?: ChatSealer): void {
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
	const add = (name: string, text: string, own: boolean, undecryptable = false): void => {
		const item = document.createElement('li');
		if (own) {
			item.dataset.own = '';
		}
		if (undecryptable) {
			item.dataset.undecryptable = '';
		}
		const who = document.createElement('b');
		who.textContent = name;
		item.append(who, ' ', text);
		log.append(item);
		log.scrollTop = log.scrollHeight;
	};

	button.hidden = false;
	const received = (name: string, text: string | undefined): void => {
		add(name, text ?? UNDECRYPTABLE_TEXT, false, text === undefined);
		if (panel.hidden) {
			setUnread(unread + 1);
		}
	};
	// NOTE: sealed messages open one after another, so they show in the order they came.
	let opening = Promise.resolve();
	signaling.on('chat.message', ({ from, name, text, sealed }) => {
		if (sealer && sealed !== undefined) {
			opening = opening.then(async () => received(name, await sealer.open(from, sealed)));
		} else if (!sealer && text !== undefined) {
			received(name, text);
		}
	});
	wirePanel(button, panel, (open) => {
		setUnread(open ? 0 : unread);
		if (open) {
			input.focus();
		}
	});
	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const text = input.value.trim();
		if (text === '') {
			return;
		}
		(sealer ? sealer.seal(text).then((sealed) => ({ sealed })) : Promise.resolve({ text }))
			.then((message) => signaling.request('chat.send', message)).then(() => {
			add('You', text, true);
			input.value = '';
			problem.hidden = true;
		}, (error: unknown) => {
			problem.textContent = refusalText(error);
			problem.hidden = false;
		});
	});
}
