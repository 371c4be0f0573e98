import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

const FEATURES = ["auth", "commands", "devices", "groups", "jobs", "sites", "twin"];

// bulletproof-react: a feature never imports another feature; src/app composes them.
const featureBoundaries = FEATURES.map((feature) => ({
  files: [`src/features/${feature}/**/*.{ts,tsx}`],
  rules: {
    "no-restricted-imports": ["error", {
      patterns: [
        { regex: `^@/features/(?!${feature}/)`, message: "features do not import each other; compose them in src/app" },
        { regex: "^@/app/", message: "features do not import the app layer" },
        { regex: "^\\.\\./\\.\\./\\.\\./", message: "import shared code through @/" },
      ],
    }],
  },
}));

export default tseslint.config(
  { ignores: ["dist", "node_modules"] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    files: ["**/*.{ts,tsx}"],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  ...featureBoundaries,
);
