/**
 * The readiness report as data: tables (formatted cells) and chart series, built only from the
 * inputs read under reports/ and judged against config/sla.json. The HTML and markdown renderers
 * both render this model, so they always say the same thing. Each section has its own builder
 * (`*_section.ts`, on the shapes of ./section.ts); the SLA table is ./compliance.ts.
 *
 * @module
 */
import type { Sla } from "../sla/sla.ts";
import { describeMachine, type Machine } from "../load/machine.ts";
import type { ReportInputs } from "./inputs.ts";
import type { Section, Table } from "./section.ts";
import { compliance } from "./compliance.ts";
import { faultsSection } from "./faults_section.ts";
import { kmsSection } from "./kms_section.ts";
import { loadSection } from "./load_section.ts";
import { rolloutSection } from "./rollout_section.ts";
import { searchSection } from "./search_section.ts";

export { describeMachine };

/** The whole report. */
export interface ReportModel {
  title: string;
  generatedAt: string;
  /** The machine the report was generated on. */
  machine: string;
  compliance: Table;
  sections: Section[];
}

/** Builds the report model. */
export function buildReport(
  inputs: ReportInputs,
  sla: Sla,
  context: { generatedAt: Date; machine: Machine },
): ReportModel {
  return {
    title: "Parker Flight performance readiness report",
    generatedAt: context.generatedAt.toISOString(),
    machine: describeMachine(context.machine),
    compliance: compliance(sla, inputs),
    sections: [
      ...(inputs.rollout ? [rolloutSection(inputs.rollout)] : []),
      searchSection(inputs.search),
      loadSection(inputs.loads, inputs.loadsDir),
      kmsSection(inputs.kms),
      ...(inputs.faults ? [faultsSection(inputs.faults)] : []),
    ],
  };
}
