// Files in the UI: saving a text download such as an export (a real download on the web, the share
// sheet on phones; a file's original bytes go through api/download.ts),
// and a file's size and type icon for its chip or card.
import { Platform, Share } from 'react-native';

export async function saveResponse(response: Response, fallbackName: string): Promise<void> {
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match?.[1] ? decodeURIComponent(match[1]) : fallbackName;
  if (Platform.OS === 'web') {
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return;
  }
  const text = await response.text();
  await Share.share({ title: name, message: text });
}

/** "820 B", "14 KB", "3.2 MB": a file's size for its chip or card. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

type IconName = 'document-text-outline' | 'image-outline' | 'grid-outline' | 'easel-outline' | 'book-outline' | 'document-outline';

/** The type icon of a file, from the server's kind or else its MIME type and name. */
export function fileIcon(file: { kind?: string | null; mime?: string | null; name?: string }): IconName {
  const kind = file.kind || guessKind(file.mime ?? '', file.name ?? '');
  switch (kind) {
    case 'image':
      return 'image-outline';
    case 'xlsx':
      return 'grid-outline';
    case 'pptx':
      return 'easel-outline';
    case 'epub':
      return 'book-outline';
    case 'pdf':
    case 'docx':
    case 'text':
      return 'document-text-outline';
    default:
      return 'document-outline';
  }
}

function guessKind(mime: string, name: string): string {
  if (mime.startsWith('image/')) return 'image';
  if (mime === 'application/pdf' || /\.pdf$/i.test(name)) return 'pdf';
  if (/sheet|excel|\.xlsx$/i.test(mime + name)) return 'xlsx';
  if (/presentation|\.pptx$/i.test(mime + name)) return 'pptx';
  if (/epub/i.test(mime + name)) return 'epub';
  if (mime.startsWith('text/') || /\.(txt|md|csv|json)$/i.test(name)) return 'text';
  return '';
}
