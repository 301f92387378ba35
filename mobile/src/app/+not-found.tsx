// Any unknown path goes back to the chat.
import { Redirect } from 'expo-router';

export default function NotFoundRoute() {
  return <Redirect href="/" />;
}
