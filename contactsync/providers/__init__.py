"""Built-in providers: one package each (wire records, translator, client)."""
