import { act, fireEvent, render, screen } from '@testing-library/react-native';
import { useState } from 'react';

import type { Attachment, Attachments } from '@/state/attachments';
import { Composer } from '../Composer';

jest.mock('../attach/pickers', () => ({ pickDocuments: jest.fn(), pickPhotos: jest.fn(), takePhoto: jest.fn() }));

const chip = (extra: Partial<Attachment>): Attachment => ({
  key: 'attachment:x',
  name: 'report.pdf',
  size: 2_400_000,
  mime: 'application/pdf',
  kind: 'pdf',
  status: 'ready',
  progress: 1,
  fileId: 'f1',
  failure: null,
  uploadError: null,
  ...extra,
});

function attachmentsOf(items: Attachment[], extra: Partial<Attachments> = {}): Attachments {
  const ready = items.filter((i) => i.status === 'ready');
  return {
    items,
    max: 20,
    full: false,
    overflow: null,
    allReady: ready.length === items.length,
    readyIds: ready.map((i) => i.fileId as string),
    readyFiles: [],
    add: jest.fn(),
    remove: jest.fn(),
    clear: jest.fn(),
    ...extra,
  };
}

type Props = Partial<Parameters<typeof Composer>[0]>;

function Harness({ generating = false, onSend = jest.fn(), onStop = jest.fn(), ...rest }: Props) {
  const [deepthink, setDeepthink] = useState(false);
  return <Composer onSend={onSend} onStop={onStop} deepthink={deepthink} onToggleDeepthink={setDeepthink} generating={generating} {...rest} />;
}

const input = () => screen.getByLabelText('Message Whale');

describe('Composer', () => {
  it('toggles DeepThink (R1)', () => {
    render(<Harness />);
    const toggle = screen.getByRole('switch', { name: 'DeepThink (R1)' });
    expect(toggle.props.accessibilityState).toMatchObject({ checked: false });
    fireEvent.press(toggle);
    expect(screen.getByRole('switch', { name: 'DeepThink (R1)' }).props.accessibilityState).toMatchObject({ checked: true });
  });

  it('sends the trimmed text with the DeepThink flag and clears the box once accepted', async () => {
    const onSend = jest.fn().mockResolvedValue(true);
    render(<Harness onSend={onSend} />);
    const send = screen.getByRole('button', { name: 'Send message' });
    expect(send.props.accessibilityState).toMatchObject({ disabled: true });

    fireEvent.press(screen.getByRole('switch', { name: 'DeepThink (R1)' }));
    fireEvent.changeText(input(), '  Why is the sky blue?  ');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(onSend).toHaveBeenCalledWith('Why is the sky blue?', true);
    expect(input().props.value).toBe('');
  });

  it('gives a refused question back to the user', async () => {
    const onSend = jest.fn().mockResolvedValue(false);
    render(<Harness onSend={onSend} />);
    fireEvent.changeText(input(), 'A question the server refuses');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(onSend).toHaveBeenCalledTimes(1);
    expect(input().props.value).toBe('A question the server refuses');
  });

  it('does not send an empty message', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} />);
    fireEvent.changeText(input(), '   ');
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).not.toHaveBeenCalled();
  });

  it('shows a counter near the length limit and will not send past it', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} maxChars={100} />);
    fireEvent.changeText(input(), 'x'.repeat(79));
    expect(screen.queryByText(/\/ 100$/)).toBeNull();
    fireEvent.changeText(input(), 'x'.repeat(95));
    expect(screen.getByText('95 / 100')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send message' }).props.accessibilityState).toMatchObject({ disabled: false });

    fireEvent.changeText(input(), 'x'.repeat(103));
    expect(screen.getByText('3 characters over the limit of 100: shorten the message to send it')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send message' }).props.accessibilityState).toMatchObject({ disabled: true });
  });

  it('says on the DeepThink button that the day’s allowance is spent', () => {
    const notice = 'DeepThink limit reached for today, answering with the chat model; resets in 5 h';
    render(<Composer onSend={jest.fn()} onStop={jest.fn()} deepthink onToggleDeepthink={jest.fn()} generating={false} deepthinkNotice={notice} />);
    expect(screen.getByText(notice)).toBeTruthy();
    expect(screen.getByRole('switch', { name: 'DeepThink (R1)' }).props.accessibilityHint).toBe(notice);
  });

  it('turns the send button into stop while answering', () => {
    const onStop = jest.fn();
    render(<Harness generating onStop={onStop} />);
    expect(screen.queryByRole('button', { name: 'Send message' })).toBeNull();
    fireEvent.press(screen.getByRole('button', { name: 'Stop generating' }));
    expect(onStop).toHaveBeenCalledTimes(1);
  });

  it('shows the Search toggle only when the server can search', () => {
    const onToggleSearch = jest.fn();
    const { rerender } = render(<Harness onToggleSearch={onToggleSearch} />);
    expect(screen.queryByRole('switch', { name: 'Search' })).toBeNull();
    rerender(<Harness searchAvailable search={false} onToggleSearch={onToggleSearch} />);
    const toggle = screen.getByRole('switch', { name: 'Search' });
    expect(toggle.props.accessibilityState).toMatchObject({ checked: false });
    fireEvent.press(toggle);
    expect(onToggleSearch).toHaveBeenCalledWith(true);
    rerender(<Harness searchAvailable search onToggleSearch={onToggleSearch} />);
    expect(screen.getByRole('switch', { name: 'Search' }).props.accessibilityState).toMatchObject({ checked: true });
  });

  it('shows each attached file with its size and progress, and waits to send until all are read', async () => {
    const onSend = jest.fn().mockResolvedValue(true);
    const items = [chip({ key: 'a', status: 'uploading', progress: 0.42, fileId: null }), chip({ key: 'b', name: 'photo.png', kind: 'image', status: 'reading', size: 512 })];
    const { rerender } = render(<Harness onSend={onSend} attachments={attachmentsOf(items)} />);
    expect(screen.getByLabelText('report.pdf, 2.3 MB: Uploading 42%')).toBeTruthy();
    expect(screen.getByLabelText('photo.png, 512 B: Reading…')).toBeTruthy();
    // Each spinner (a progressbar on the web) is named after the status it shows.
    expect(screen.getByLabelText('Uploading 42%')).toBeTruthy();
    expect(screen.getByLabelText('Reading…')).toBeTruthy();

    fireEvent.changeText(input(), 'What do these say?');
    const send = screen.getByRole('button', { name: 'Send message' });
    expect(send.props.accessibilityState).toMatchObject({ disabled: true });
    expect(send.props.accessibilityHint).toBe('Waiting for the files to be read…');
    expect(screen.getByText('Waiting for the files to be read…')).toBeTruthy();
    fireEvent.press(send);
    expect(onSend).not.toHaveBeenCalled();

    rerender(<Harness onSend={onSend} attachments={attachmentsOf(items.map((i) => ({ ...i, status: 'ready', fileId: i.key })))} />);
    expect(screen.queryByText('Waiting for the files to be read…')).toBeNull();
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(onSend).toHaveBeenCalledWith('What do these say?', false);
  });

  it('says in plain words why a file failed, and lets it be removed', () => {
    const attachments = attachmentsOf([chip({ status: 'failed', failure: 'This PDF is protected by a password.' })]);
    render(<Harness attachments={attachments} />);
    expect(screen.getByText('2.3 MB · This PDF is protected by a password.')).toBeTruthy();
    fireEvent.changeText(input(), 'Read it');
    expect(screen.getByText('Remove the files that could not be read to send.')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Remove report.pdf' }));
    expect(attachments.remove).toHaveBeenCalledWith('attachment:x');
  });

  it('says when a pick had more files than a message may carry, and disables attaching when full', () => {
    render(<Harness attachments={attachmentsOf([chip({})], { overflow: 1, full: true, max: 1 })} />);
    expect(screen.getByText('Files per message: at most 1.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Attach files' }).props.accessibilityState).toMatchObject({ disabled: true });
  });
});
