// The API's id alphabet (chalicelib/core/ids.py ID_PATTERN; a unit test keeps them equal).
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ID_HINT = "letters, digits, _ and - only (at most 64), starting with a letter or digit";
