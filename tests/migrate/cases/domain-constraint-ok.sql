CREATE DOMAIN label AS text;
