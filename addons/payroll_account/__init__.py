"Civil-law contracts and payroll bills (rachunki) of portal clients"
