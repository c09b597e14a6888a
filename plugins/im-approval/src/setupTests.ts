import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// Whole pages render in these tests; the first one in a file also pays for loading Material UI.
jest.setTimeout(30_000);
// On a loaded CI machine a page takes seconds to settle: findBy and waitFor wait that long, not 1 s.
configure({ asyncUtilTimeout: 10_000 });
