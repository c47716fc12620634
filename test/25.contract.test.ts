// lib/native-contract.ts mirrors values native code defines; this holds the
// two to each other, so a change on one side alone fails here rather than as
// requests read with the wrong layout.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native';
import {
  CancelOutcome,
  CompletionField,
  CompletionResult,
  NativeChecksumAlgorithm,
  NativeChecksumPath,
  ProtectionFormats,
  OpCodes,
  RecordField,
  RecordStatus,
  RequestFlags,
  SubmitAnswer,
  completionBytes,
  completionDoubles,
  completionInts,
  completionLatencyDouble,
  engineNames,
  opNames,
  recordBytes,
  recordDoubles,
  recordInts,
  recordDeadlineDouble,
  recordPositionDouble,
  tupleBytes,
} from '../lib/native-contract';
import { probeEngines } from '../lib/index';

const contract = native.contract;

describe('the JS <-> native contract', () => {
  it('names the engines native code knows, in its order', () => {
    expect([...engineNames]).toEqual(contract.engineNames);
    expect(Object.keys(probeEngines())).toEqual(contract.engineNames);
  });

  it('numbers the ops and flags as engine.h does', () => {
    expect({ ...OpCodes }).toEqual(contract.opCodes);
    expect(opNames.map((name) => OpCodes[name])).toEqual(opNames.map((_, index) => index));
    expect({ ...RequestFlags }).toEqual(contract.flags);
  });

  it('lays out the submission record as native code reads it', () => {
    expect(recordBytes).toBe(contract.recordBytes);
    expect(recordInts * 4).toBe(contract.recordBytes);
    expect(recordDoubles * 8).toBe(contract.recordBytes);
    const offsets = Object.fromEntries(Object.entries(RecordField).map(([field, index]) => [field, index * 4]));
    expect({ ...offsets, position: recordPositionDouble * 8, deadline: recordDeadlineDouble * 8 }).toEqual(contract.recordOffsets);
  });

  it('reads record statuses, completion records and submit answers as native code writes them', () => {
    expect({ ...RecordStatus }).toEqual(contract.recordStatuses);
    expect(completionBytes).toBe(contract.completionBytes);
    expect(completionInts * 4).toBe(contract.completionBytes);
    expect(completionDoubles * 8).toBe(contract.completionBytes);
    const offsets = Object.fromEntries(Object.entries(CompletionField).map(([field, index]) => [field, index * 4]));
    expect({ ...offsets, latencyNs: completionLatencyDouble * 8 }).toEqual(contract.completionOffsets);
    expect({ ...SubmitAnswer }).toEqual(contract.submitAnswers);
  });

  it('numbers the checksums, their paths and the protection formats as native code does', () => {
    expect({ ...NativeChecksumAlgorithm }).toEqual(contract.checksumAlgorithms);
    expect({ ...NativeChecksumPath }).toEqual(contract.checksumPaths);
    expect({ ...ProtectionFormats }).toEqual(contract.protectionFormats);
    expect({ ...tupleBytes }).toEqual(contract.tupleBytes);
    expect({ ...CompletionResult }).toEqual(contract.completionResults);
  });

  it("numbers an engine's cancel outcomes as engine.h does", () => {
    expect({ ...CancelOutcome }).toEqual(contract.cancelOutcomes);
  });
});
