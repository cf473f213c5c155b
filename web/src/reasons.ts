import type { Lang } from './i18n.js';

/**
 * Short headlines, per reason code, for agents who work in Dutch or German. The engine explains
 * each condition in an English sentence (with dates and names); the page shows this headline in
 * the agent's language above it. English needs no headline: the sentence is already plain English.
 * Codes not listed here show the English sentence alone.
 */
const HEADLINES: Record<string, { nl: string; de: string }> = {
  // scope and the kind of call
  invalid_number: { nl: 'Geen geldig telefoonnummer', de: 'Keine gültige Telefonnummer' },
  unsupported_jurisdiction: { nl: 'Geen regels voor dit land', de: 'Keine Regeln für dieses Land' },
  number_reassigned: { nl: 'Nummer is overgegaan naar een nieuwe houder', de: 'Nummer ist an einen neuen Inhaber übergegangen' },
  service_call: { nl: 'Servicegesprek: geen grondslag nodig', de: 'Serviceanruf: keine Rechtsgrundlage nötig' },
  telemarketing_call: { nl: 'Telemarketinggesprek: de regels gelden', de: 'Werbeanruf: die Regeln gelten' },
  natural_person: { nl: 'Natuurlijk persoon: grondslag nodig', de: 'Natürliche Person: Rechtsgrundlage nötig' },
  legal_person_opt_out: { nl: 'Rechtspersoon: bellen mag tenzij bezwaar', de: 'Juristische Person: Anruf erlaubt, solange kein Widerspruch' },
  regime_opt_out: { nl: 'Opt-outregime van vóór 1 juli 2021', de: 'Opt-out-Regelung vor dem 1. Juli 2021' },
  opt_out_regime: { nl: 'Opt-outregime: bellen mag tenzij bezwaar of registratie', de: 'Opt-out-Regelung: erlaubt ohne Widerspruch oder Sperrlisteneintrag' },
  consumer_opt_in: { nl: 'Consument: uitdrukkelijke toestemming nodig', de: 'Verbraucher: ausdrückliche Einwilligung nötig' },
  business_presumed_consent: { nl: 'Bedrijf: minstens veronderstelde toestemming nodig', de: 'Unternehmen: mindestens mutmaßliche Einwilligung nötig' },
  fine_risk: { nl: 'Risico op boete zonder toestemming', de: 'Bußgeldrisiko ohne Einwilligung' },
  caller_id: { nl: 'Toon een terugbelbaar nummer', de: 'Rückrufbare Nummer anzeigen' },
  recorded_message: { nl: 'Opgenomen bericht: alleen met toestemming', de: 'Aufgezeichnete Nachricht: nur mit Einwilligung' },

  // consent
  consent_valid: { nl: 'Toestemming aanwezig', de: 'Einwilligung liegt vor' },
  consent_verified: { nl: 'Toestemming geverifieerd', de: 'Einwilligung bestätigt' },
  consent_unverified: { nl: 'Toestemming niet geverifieerd', de: 'Einwilligung nicht bestätigt' },
  consent_earlier_counts: { nl: 'Eerdere toestemming telt nog', de: 'Frühere Einwilligung zählt noch' },
  consent_expired: { nl: 'Toestemming verlopen', de: 'Einwilligung abgelaufen' },
  consent_withdrawn: { nl: 'Toestemming ingetrokken', de: 'Einwilligung widerrufen' },
  consent_wrong_channel: { nl: 'Toestemming geldt niet voor telefoon', de: 'Einwilligung gilt nicht für Telefon' },
  consent_bundled: { nl: 'Gebundelde toestemming telt niet', de: 'Gebündelte Einwilligung zählt nicht' },
  consent_method_not_proof: { nl: 'Manier van vastleggen is geen bewijs', de: 'Art der Erfassung ist kein Nachweis' },
  consent_not_specific: { nl: 'Toestemming noemt geen producten', de: 'Einwilligung nennt keine Produkte' },
  consent_product_mismatch: { nl: 'Toestemming geldt voor een ander product', de: 'Einwilligung gilt für ein anderes Produkt' },
  consent_only_category: { nl: 'Voor dit onderwerp is toestemming nodig', de: 'Für dieses Thema ist eine Einwilligung nötig' },
  consent_other_entity: { nl: 'Toestemming geldt voor een andere organisatie', de: 'Einwilligung gilt für ein anderes Unternehmen' },
  no_consent: { nl: 'Geen toestemming vastgelegd', de: 'Keine Einwilligung erfasst' },
  document_consent_use: { nl: 'Leg dit gesprek vast bij de toestemming', de: 'Anruf bei der Einwilligung dokumentieren' },
  robocall_consent: { nl: 'Schriftelijke toestemming voor automatische oproep', de: 'Schriftliche Einwilligung für automatischen Anruf' },
  robocall_needs_consent: { nl: 'Automatische oproep vereist schriftelijke toestemming', de: 'Automatischer Anruf braucht schriftliche Einwilligung' },
  one_to_one_not_in_force: { nl: 'Eén-op-één-regel geldt niet', de: 'Eins-zu-eins-Regel gilt nicht' },
  presumed_consent: { nl: 'Veronderstelde toestemming onderbouwd', de: 'Mutmaßliche Einwilligung begründet' },
  presumed_consent_no_justification: { nl: 'Onderbouwing ontbreekt', de: 'Begründung fehlt' },
  presumed_consent_not_recorded: { nl: 'Geen onderbouwing vastgelegd', de: 'Keine Begründung erfasst' },
  presumed_consent_product_mismatch: { nl: 'Onderbouwing geldt voor een ander product', de: 'Begründung gilt für ein anderes Produkt' },

  // customer relationships
  relationship_transaction: { nl: 'Klantrelatie met aankoop of contract', de: 'Kundenbeziehung mit Kauf oder Vertrag' },
  relationship_charity_supporter: { nl: 'Geldt als klant van het goede doel', de: 'Gilt als Unterstützer der Organisation' },
  relationship_no_transaction: { nl: 'Geen financiële transactie', de: 'Kein Kauf und kein Vertrag' },
  relationship_informed: { nl: 'Geïnformeerd bij het verzamelen', de: 'Bei der Erhebung informiert' },
  relationship_not_informed: { nl: 'Niet geïnformeerd bij het verzamelen', de: 'Bei der Erhebung nicht informiert' },
  relationship_opt_out_offered: { nl: 'Afmelding aangeboden bij het verzamelen', de: 'Abmeldung bei der Erhebung angeboten' },
  relationship_no_opt_out_offered: { nl: 'Geen afmelding aangeboden', de: 'Keine Abmeldung angeboten' },
  relationship_transitional: { nl: 'Overgangsregel: klant van vóór 1 juli 2021', de: 'Übergangsregel: Kunde vor dem 1. Juli 2021' },
  relationship_same_product: { nl: 'Zelfde soort product', de: 'Gleiche Produktart' },
  relationship_product_mismatch: { nl: 'Ander product dan de klantrelatie', de: 'Anderes Produkt als in der Kundenbeziehung' },
  relationship_product_unknown: { nl: 'Noem de productcategorie', de: 'Produktkategorie angeben' },
  relationship_ongoing: { nl: 'Klantrelatie loopt nog', de: 'Kundenbeziehung besteht noch' },
  relationship_in_term: { nl: 'Klantrelatie telt nog', de: 'Kundenbeziehung zählt noch' },
  relationship_expired: { nl: 'Klantrelatie verlopen', de: 'Kundenbeziehung abgelaufen' },
  relationship_exception_ended: { nl: 'Uitzondering voor klantrelaties vervallen', de: 'Ausnahme für Kundenbeziehungen entfallen' },
  relationship_no_exception: { nl: 'Klantrelatie is hier geen grondslag', de: 'Kundenbeziehung ist hier keine Grundlage' },
  relationship_other_entity: { nl: 'Klantrelatie met een andere organisatie', de: 'Kundenbeziehung mit einem anderen Unternehmen' },
  no_relationship: { nl: 'Geen klantrelatie vastgelegd', de: 'Keine Kundenbeziehung erfasst' },
  pension_client: { nl: 'Bestaande pensioenklant', de: 'Bestehender Pensionskunde' },
  no_client_relationship: { nl: 'Geen bestaande klant', de: 'Kein bestehender Kunde' },
  client_ended: { nl: 'Klantrelatie beëindigd', de: 'Kundenbeziehung beendet' },
  relationship_exception_ideological: { nl: 'Ideële organisatie: klantrelatie telt (onbevestigd)', de: 'Ideelle Organisation: Kundenbeziehung zählt (unbestätigt)' },
  client_no_refusal_offered: { nl: 'Geen weigering aangeboden', de: 'Keine Ablehnung angeboten' },
  client_not_expecting_calls: { nl: 'Klant verwacht zulke gesprekken niet', de: 'Kunde erwartet solche Anrufe nicht' },
  client_no_transaction: { nl: 'Geen klant door deze relatie', de: 'Kein Kunde durch diese Beziehung' },
  client_other_product: { nl: 'Relatie gaat over een ander product', de: 'Beziehung betrifft ein anderes Produkt' },
  offer_refusal: { nl: 'Bied een eenvoudige weigering aan', de: 'Einfache Ablehnung anbieten' },
  ebr_current: { nl: 'Lopende zakelijke relatie', de: 'Laufende Geschäftsbeziehung' },
  ebr_transaction: { nl: 'Recente aankoop', de: 'Kürzlicher Kauf' },
  ebr_inquiry: { nl: 'Recente vraag om informatie', de: 'Kürzliche Anfrage' },
  ebr_expired: { nl: 'Zakelijke relatie verlopen', de: 'Geschäftsbeziehung abgelaufen' },
  ebr_no_transaction: { nl: 'Geen aankoop of vraag', de: 'Kein Kauf und keine Anfrage' },
  ebr_ended_by_request: { nl: 'Relatie beëindigd door niet-bellen-verzoek', de: 'Beziehung durch Sperrwunsch beendet' },

  // requests to be called
  request_open: { nl: 'Verzoek om gebeld te worden: één gesprek', de: 'Bitte um Anruf: ein Anruf' },
  request_used: { nl: 'Het ene gesprek is al gevoerd', de: 'Der eine Anruf wurde schon geführt' },
  request_not_documented_consent: { nl: 'Verzoek is geen vastgelegde toestemming', de: 'Bitte ist keine dokumentierte Einwilligung' },
  no_request: { nl: 'Geen verzoek om gebeld te worden', de: 'Keine Bitte um Anruf' },

  // objections and withdrawals
  objected: { nl: 'Bezwaar gemaakt', de: 'Widerspruch eingelegt' },
  objection_overridden: { nl: 'Bezwaar ingehaald door nieuwe toestemming', de: 'Widerspruch durch neue Einwilligung aufgehoben' },
  objection_telemarketing_only: { nl: 'Bezwaar geldt voor verkoopgesprekken, niet voor dit gesprek', de: 'Widerspruch gilt für Werbeanrufe, nicht für diesen Anruf' },
  no_objection: { nl: 'Geen bezwaar', de: 'Kein Widerspruch' },
  withdrawal_beats_older: { nl: 'Intrekking gaat voor oudere toestemming', de: 'Widerruf geht älterer Erlaubnis vor' },
  withdrawal_is_objection: { nl: 'Intrekking telt als bezwaar', de: 'Widerruf gilt als Widerspruch' },

  // registers
  register_listed: { nl: 'Nummer staat in het register', de: 'Nummer steht in der Sperrliste' },
  register_listed_recently: { nl: 'Pas ingeschreven: nog niet van kracht', de: 'Kürzlich eingetragen: noch nicht wirksam' },
  register_not_listed: { nl: 'Niet in het register', de: 'Nicht in der Sperrliste' },
  register_not_yet_listed: { nl: 'Na dit gesprek ingeschreven', de: 'Erst nach dem Anruf eingetragen' },
  register_overridden: { nl: 'Registratie opzij gezet door toestemming', de: 'Sperrlisteneintrag durch Einwilligung aufgehoben' },
  register_exception: { nl: 'Uitzondering op het register', de: 'Ausnahme von der Sperrliste' },
  register_not_applicable: { nl: 'Register geldt hier niet', de: 'Sperrliste gilt hier nicht' },
  register_not_needed: { nl: 'Register niet nodig', de: 'Sperrliste nicht nötig' },
  register_missing: { nl: 'Geen kopie van het register geladen', de: 'Keine Kopie der Sperrliste geladen' },
  register_unavailable: { nl: 'Register niet beschikbaar', de: 'Sperrliste nicht verfügbar' },
  register_abolished: { nl: 'Bel-me-niet Register afgeschaft', de: 'Bel-me-niet-Register abgeschafft' },
  register_fresh: { nl: 'Kopie van het register is actueel', de: 'Kopie der Sperrliste ist aktuell' },
  register_copy_old: { nl: 'Kopie van het register is oud', de: 'Kopie der Sperrliste ist alt' },
  register_stale: { nl: 'Kopie van het register is te oud', de: 'Kopie der Sperrliste ist zu alt' },

  // when and how often
  calling_hours: { nl: 'Binnen de wettelijke beltijden', de: 'Innerhalb der gesetzlichen Anrufzeiten' },
  outside_calling_hours: { nl: 'Buiten de wettelijke beltijden', de: 'Außerhalb der gesetzlichen Anrufzeiten' },
  entity_calling_hours: { nl: 'Binnen de eigen beltijden', de: 'Innerhalb der eigenen Anrufzeiten' },
  entity_outside_calling_hours: { nl: 'Buiten de eigen beltijden', de: 'Außerhalb der eigenen Anrufzeiten' },
  local_time_zone: { nl: 'Lokale tijd van de gebelde', de: 'Ortszeit des Angerufenen' },
  local_time_zone_assumed: { nl: 'Lokale tijd aangenomen', de: 'Ortszeit angenommen' },
  time_zone_unknown: { nl: 'Onbekende tijdzone', de: 'Unbekannte Zeitzone' },
  call_count: { nl: 'Aantal gesprekken binnen de grens', de: 'Anzahl der Anrufe im Rahmen' },
  frequency_cap: { nl: 'Te vaak gebeld', de: 'Zu oft angerufen' },
  line_type_assumed_mobile: { nl: 'Aangenomen: mobiel nummer', de: 'Angenommen: Mobilnummer' },
  state_rules: { nl: 'Regels van de staat', de: 'Regeln des Bundesstaats' },
  state_unknown: { nl: 'Staat onbekend: strengste regels', de: 'Bundesstaat unbekannt: strengste Regeln' },
};

export function reasonHeadline(code: string, lang: Lang): string | null {
  return lang === 'en' ? null : (HEADLINES[code]?.[lang] ?? null);
}
