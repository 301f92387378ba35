// Dropping and pasting files is a web thing (fileDrop.web.ts); phones pick through AttachButton.
import type { RefObject } from 'react';

import type { PickedFile } from '@/api/upload';

export function useFileDrop(_target: RefObject<unknown>, _onFiles: ((files: PickedFile[]) => void) | undefined): boolean {
  return false;
}
