// Buttons used across the app: filled, outlined, plain text and danger; icon-only buttons.
import Ionicons from '@expo/vector-icons/Ionicons';
import type { ComponentProps, ReactNode } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, type StyleProp, type ViewStyle } from 'react-native';

import { useTheme } from '@/theme/ThemeProvider';

export type IconName = ComponentProps<typeof Ionicons>['name'];

interface ButtonProps {
  label: string;
  onPress: () => void;
  variant?: 'primary' | 'secondary' | 'ghost' | 'danger';
  disabled?: boolean;
  busy?: boolean;
  icon?: IconName;
  style?: StyleProp<ViewStyle>;
  accessibilityLabel?: string;
}

export function Button({ label, onPress, variant = 'primary', disabled, busy, icon, style, accessibilityLabel }: ButtonProps) {
  const { colors, radius, fontSize } = useTheme();
  const inactive = disabled || busy;
  const background =
    variant === 'primary' ? colors.accentStrong : variant === 'danger' ? colors.dangerStrong : variant === 'secondary' ? colors.surface : 'transparent';
  const foreground =
    variant === 'primary' || variant === 'danger' ? colors.onAccent : variant === 'ghost' ? colors.accentText : colors.text;
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={accessibilityLabel ?? label}
      accessibilityState={{ disabled: !!inactive, busy: !!busy }}
      aria-busy={!!busy}
      disabled={inactive}
      onPress={onPress}
      style={({ pressed }) => [
        styles.button,
        {
          backgroundColor: background,
          borderRadius: radius.md,
          opacity: inactive ? 0.55 : pressed ? 0.85 : 1,
          borderColor: variant === 'secondary' ? colors.border : 'transparent',
        },
        style,
      ]}
    >
      {busy ? <ActivityIndicator color={foreground} size="small" /> : icon ? <Ionicons name={icon} size={18} color={foreground} /> : null}
      <Text style={[styles.label, { color: foreground, fontSize: fontSize.md }]}>{label}</Text>
    </Pressable>
  );
}

interface IconButtonProps {
  icon: IconName;
  label: string;
  onPress: () => void;
  size?: number;
  color?: string;
  disabled?: boolean;
  selected?: boolean;
  style?: StyleProp<ViewStyle>;
  children?: ReactNode;
}

export function IconButton({ icon, label, onPress, size = 20, color, disabled, selected, style }: IconButtonProps) {
  const { colors } = useTheme();
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={label}
      accessibilityState={{ disabled: !!disabled, selected: !!selected }}
      aria-pressed={selected}
      disabled={disabled}
      onPress={onPress}
      hitSlop={6}
      style={({ pressed }) => [
        styles.icon,
        { backgroundColor: pressed ? colors.surfaceAlt : 'transparent', opacity: disabled ? 0.4 : 1 },
        style,
      ]}
    >
      <Ionicons name={icon} size={size} color={color ?? (selected ? colors.accentText : colors.textMuted)} />
    </Pressable>
  );
}

const styles = StyleSheet.create({
  button: {
    minHeight: 44,
    paddingHorizontal: 16,
    flexDirection: 'row',
    alignItems: 'center',
    justifyContent: 'center',
    gap: 8,
    borderWidth: 1,
  },
  label: { fontWeight: '600' },
  icon: { padding: 6, borderRadius: 8, alignItems: 'center', justifyContent: 'center' },
});
