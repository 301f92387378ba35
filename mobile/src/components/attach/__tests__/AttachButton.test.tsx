// The native pickers behind the paper clip: the document picker, the photo library and the
// camera, mocked at the module edge (the device is what a test cannot reach).
import { act, fireEvent, render, screen } from '@testing-library/react-native';
import * as DocumentPicker from 'expo-document-picker';
import * as ImagePicker from 'expo-image-picker';

import { AttachButton } from '../AttachButton';
import { pickDocuments, pickPhotos, takePhoto } from '../pickers';

jest.mock('expo-document-picker', () => ({ getDocumentAsync: jest.fn() }));
jest.mock('expo-image-picker', () => ({
  requestMediaLibraryPermissionsAsync: jest.fn(),
  requestCameraPermissionsAsync: jest.fn(),
  launchImageLibraryAsync: jest.fn(),
  launchCameraAsync: jest.fn(),
}));

const documents = DocumentPicker.getDocumentAsync as jest.Mock;
const library = ImagePicker.launchImageLibraryAsync as jest.Mock;
const camera = ImagePicker.launchCameraAsync as jest.Mock;
const libraryPermission = ImagePicker.requestMediaLibraryPermissionsAsync as jest.Mock;
const cameraPermission = ImagePicker.requestCameraPermissionsAsync as jest.Mock;

beforeEach(() => {
  jest.clearAllMocks();
  libraryPermission.mockResolvedValue({ granted: true });
  cameraPermission.mockResolvedValue({ granted: true });
});

describe('pickers', () => {
  it('picks several documents, reading them from where they are', async () => {
    documents.mockResolvedValue({
      canceled: false,
      assets: [
        { name: 'report.pdf', size: 1234, mimeType: 'application/pdf', uri: 'file:///docs/report.pdf', lastModified: 0 },
        { name: 'notes.txt', uri: 'file:///docs/notes.txt', lastModified: 0 },
      ],
    });
    await expect(pickDocuments()).resolves.toEqual({
      files: [
        { name: 'report.pdf', size: 1234, mime: 'application/pdf', uri: 'file:///docs/report.pdf', blob: undefined },
        { name: 'notes.txt', size: null, mime: null, uri: 'file:///docs/notes.txt', blob: undefined },
      ],
    });
    expect(documents).toHaveBeenCalledWith(expect.objectContaining({ multiple: true, copyToCacheDirectory: false }));
  });

  it('gives nothing when the user cancels', async () => {
    documents.mockResolvedValue({ canceled: true, assets: null });
    await expect(pickDocuments()).resolves.toEqual({ files: [] });
  });

  it('picks photos up to the room left, naming those the library leaves unnamed', async () => {
    library.mockResolvedValue({ canceled: false, assets: [{ uri: 'file:///p/1.png', mimeType: 'image/png', fileSize: 99, fileName: null, width: 1, height: 1 }] });
    await expect(pickPhotos(3)).resolves.toEqual({ files: [{ name: 'photo-1.png', size: 99, mime: 'image/png', uri: 'file:///p/1.png', blob: undefined }] });
    expect(library).toHaveBeenCalledWith(expect.objectContaining({ mediaTypes: ['images'], allowsMultipleSelection: true, selectionLimit: 3 }));
  });

  it('asks before using the camera or the library, and says when refused', async () => {
    cameraPermission.mockResolvedValue({ granted: false });
    await expect(takePhoto()).resolves.toEqual({ denied: 'camera' });
    expect(camera).not.toHaveBeenCalled();
    libraryPermission.mockResolvedValue({ granted: false });
    await expect(pickPhotos(5)).resolves.toEqual({ denied: 'photos' });
    expect(library).not.toHaveBeenCalled();
  });
});

describe('AttachButton on a phone', () => {
  it('offers files, photos and the camera, and hands over what was taken', async () => {
    camera.mockResolvedValue({ canceled: false, assets: [{ uri: 'file:///c/shot.jpg', mimeType: 'image/jpeg', fileName: 'shot.jpg', fileSize: 2048, width: 1, height: 1 }] });
    const onPicked = jest.fn();
    render(<AttachButton onPicked={onPicked} room={20} />);
    fireEvent.press(screen.getByRole('button', { name: 'Attach files' }));
    expect(screen.getByRole('button', { name: 'Files' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Photo library' })).toBeTruthy();
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Camera' })));
    expect(onPicked).toHaveBeenCalledWith([{ name: 'shot.jpg', size: 2048, mime: 'image/jpeg', uri: 'file:///c/shot.jpg', blob: undefined }]);
    expect(screen.queryByRole('button', { name: 'Camera' })).toBeNull();
  });

  it('says how to allow the camera when it was refused', async () => {
    cameraPermission.mockResolvedValue({ granted: false });
    const onPicked = jest.fn();
    render(<AttachButton onPicked={onPicked} room={20} />);
    fireEvent.press(screen.getByRole('button', { name: 'Attach files' }));
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Camera' })));
    expect(screen.getByText('Whale may not use the camera. Allow it in the system settings.')).toBeTruthy();
    expect(onPicked).not.toHaveBeenCalled();
  });

  it('passes the picked documents on', async () => {
    documents.mockResolvedValue({ canceled: false, assets: [{ name: 'a.docx', size: 10, mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', uri: 'file:///a.docx', lastModified: 0 }] });
    const onPicked = jest.fn();
    render(<AttachButton onPicked={onPicked} room={20} />);
    fireEvent.press(screen.getByRole('button', { name: 'Attach files' }));
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Files' })));
    expect(onPicked).toHaveBeenCalledWith([expect.objectContaining({ name: 'a.docx', uri: 'file:///a.docx' })]);
  });
});
