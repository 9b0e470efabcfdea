/**
 * CDK entry point (`cdk.json` "app"). Context keys: see cdk.json and infra/context.ts.
 */
import { createKilnApp } from './kiln-app.ts';

const { app } = createKilnApp();
app.synth();
