import type { Lang } from './i18n.js';

/**
 * The consent script an agent reads out for a phone opt-in. Versioned: the recorded wording names
 * the script and its version, so a consent can be traced to the exact text that was read out.
 * Change the text only together with the version.
 */
export const OPT_IN_SCRIPT = {
  id: 'phone-opt-in',
  version: 1,
  text: {
    en: 'May {caller} call you on this number {about}? This is only for calls from {caller}. You can say no, and you can withdraw your consent at any time, for example by telling us during a call.',
    nl: 'Mag {caller} u op dit nummer bellen {about}? Dit geldt alleen voor telefoontjes van {caller}. U mag nee zeggen, en u kunt uw toestemming altijd weer intrekken, bijvoorbeeld door het ons tijdens een gesprek te zeggen.',
    de: 'Darf {caller} Sie unter dieser Nummer {about} anrufen? Das gilt nur für Anrufe von {caller}. Sie können Nein sagen und Ihre Einwilligung jederzeit widerrufen, zum Beispiel indem Sie es uns in einem Gespräch sagen.',
  } satisfies Record<Lang, string>,
} as const;

/** The script in the language of the call, about one product or about the caller's offers. */
export function optInScript(lang: Lang, caller: string, about: string): string {
  // A name ending in a dot (B.V.) must not end a sentence with two.
  return OPT_IN_SCRIPT.text[lang].replaceAll('{caller}', caller).replace('{about}', about).replace(/\.\.(?=\s|$)/g, '.');
}

/** What is stored as the consent's wording: the text read out and which script version it was. */
export function recordedWording(text: string, lang: Lang): string {
  return `${text} [script ${OPT_IN_SCRIPT.id} v${OPT_IN_SCRIPT.version}, ${lang}]`;
}

/** The language the called person most likely speaks, from the number's country. */
export function scriptLangFor(jurisdiction: string | null, fallback: Lang): Lang {
  return jurisdiction === 'NL' ? 'nl' : jurisdiction === 'DE' ? 'de' : jurisdiction === 'GB' || jurisdiction === 'US' ? 'en' : fallback;
}
