"""The JSON:API documents of the Kard areas the simulator answers: request bodies checked (with a
400 pointing at each problem) and answers built from the catalog for one user, free of Flask."""
