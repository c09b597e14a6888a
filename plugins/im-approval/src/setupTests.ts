import '@testing-library/jest-dom';

// Whole pages render in these tests; the first one in a file also pays for loading Material UI.
jest.setTimeout(30_000);
