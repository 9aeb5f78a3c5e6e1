// Colour theme: dark unless the user picked light, kept in localStorage.

import { signal } from '@preact/signals';

const KEY = 'openguild.theme';

export const theme = signal<'dark' | 'light'>(localStorage.getItem(KEY) === 'light' ? 'light' : 'dark');

export function applyTheme(): void {
  document.documentElement.dataset.theme = theme.value;
}

export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  localStorage.setItem(KEY, theme.value);
  applyTheme();
}
