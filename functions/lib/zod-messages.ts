/**
 * Handlers validate their input with zod 4's tree-shakable `zod/mini` (about 15 KB in a bundle) instead of the
 * full `zod` (about 450 KB minified), which only PrepareBuild carries for the template engine's component
 * schemas. zod/mini loads no locale, so every message would read "Invalid input"; importing this module (wiring.ts
 * does) sets the English messages once. Schema files import `* as z from 'zod/mini'` directly: a namespace
 * re-exported as a value would pull every export of zod back into the bundle.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
