/**
 * The option keys of the settings functions, which refuse any other key
 * before they read or write anything (`validateOptionKeys`).
 *
 * @module
 */
import type {
  SessionFromSettingsOptions,
  SettingsOptions,
  SettingsSessionOptions,
} from "./settings.ts";

/** The keys of {@linkcode SettingsOptions}. */
export const SETTINGS_OPTION_KEYS: Readonly<Record<keyof SettingsOptions, true>> = {
  state: true,
  env: true,
  readTextFile: true,
  homeDir: true,
};

/** The keys of {@linkcode SettingsSessionOptions}. */
export const SETTINGS_SESSION_OPTION_KEYS: Readonly<Record<keyof SettingsSessionOptions, true>> = {
  ...SETTINGS_OPTION_KEYS,
  session: true,
};

/** The keys of {@linkcode SessionFromSettingsOptions}. */
export const SESSION_FROM_SETTINGS_OPTION_KEYS: Readonly<
  Record<keyof SessionFromSettingsOptions, true>
> = {
  ...SETTINGS_OPTION_KEYS,
  aws: true,
  recorded: true,
};

/**
 * The settings options of wider options, and nothing else: what a call
 * passes on to the settings getters, which refuse any other key.
 *
 * @param options Options that include the settings options.
 * @returns The settings options alone.
 */
export function settingsOf(options: SettingsOptions): SettingsOptions {
  const { state, env, readTextFile, homeDir } = options;
  return { state, env, readTextFile, homeDir };
}
