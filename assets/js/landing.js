// The landing page needs no script beyond the shared header.
import { setupHeader } from './lib.js';

setupHeader();
